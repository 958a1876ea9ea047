/**
 * `npm run cluster -- up|down|status`: a 3-node RabbitMQ cluster and Redis under Sentinel on this
 * machine (see `scripts/lib/cluster.ts`), for trying the services past one machine. `up` prints
 * the variables that point the services at it.
 */
import { clusterDown, clusterEnv, clusterStatus, clusterUp } from './lib/cluster';

const say = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

async function main(command: string | undefined): Promise<void> {
  if (command === 'up') {
    await clusterUp(say);
    say('point the services at it with:');
    for (const [name, value] of Object.entries(clusterEnv()))
      process.stdout.write(`export ${name}=${value}\n`);
  } else if (command === 'down') {
    await clusterDown(say);
  } else if (command === 'status') {
    for (const line of await clusterStatus()) say(line);
  } else {
    throw new Error('usage: npm run cluster -- up|down|status');
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`[cluster] ${(error as Error).message}\n`);
  process.exit(1);
});
