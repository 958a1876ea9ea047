/**
 * `npm run queues -- status|migrate`: the broker's queues against the topology (CONTRACT 12).
 * `status` lists every queue declared otherwise on the broker (a classic delay tier from before
 * the cluster release, another quorum group size); `migrate` drains each, deletes it, declares
 * it anew and puts its messages back. Stop the services first: it refuses while they consume.
 */
import { loadConfigOrExit, migrateQueues, queueDrift, topologyFor } from '@payments/platform';

const config = loadConfigOrExit();
const topology = topologyFor(config);
const say = (line: string) => process.stdout.write(`[queues] ${line}\n`);

async function main(command: string | undefined): Promise<void> {
  if (command === 'status') {
    const drift = await queueDrift(config.AMQP_URL, topology);
    if (drift.length === 0)
      say(`every queue matches the topology (quorum group size ${topology.quorumGroupSize})`);
    for (const { queue, kind, reason } of drift) say(`${queue}: ${kind}: ${reason}`);
    if (drift.length > 0) say('run `npm run queues -- migrate` with the services stopped');
    return;
  }
  if (command === 'migrate') {
    const migrations = await migrateQueues(config.AMQP_URL, topology);
    if (migrations.length === 0) say('nothing to migrate');
    for (const { queue, moved } of migrations) say(`${queue}: declared anew, ${moved} messages put back`);
    return;
  }
  throw new Error('usage: npm run queues -- status|migrate');
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`[queues] ${(error as Error).message}\n`);
  process.exit(1);
});
