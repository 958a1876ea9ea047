/**
 * `npm run up`: infrastructure, migrations, broker topology, then every service plus the sandbox
 * PSP and the example order service in the foreground, with their logs. Ctrl-C stops them all.
 */
import { Broker, topologyFor } from '@payments/platform';
import { migrate } from '@payments/core';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import { ensureInfrastructure } from './infra';
import { PARTS, startPart, stopAll } from './lib/processes';
import { localSandboxUrls, withSandboxDefaults } from './lib/sandbox-env';

async function main(): Promise<void> {
  // Each provider the environment does not configure is pointed at its local sandbox, with the
  // sandbox's published keys (the configuration has no defaults of its own: issue 27.1).
  const env = withSandboxDefaults(process.env, localSandboxUrls(process.env));
  const config = loadConfigOrExit(env);
  await ensureInfrastructure(config);
  const applied = await migrate(config.DATABASE_URL);
  process.stdout.write(`[up] migrations: ${applied.length ? applied.join(', ') : 'up to date'}\n`);
  const broker = await Broker.connect(config.AMQP_URL, topologyFor(config), createLogger('up', 'warn'));
  await broker.close();
  process.stdout.write(
    '[up] broker topology declared (see the queues at http://127.0.0.1:15672, guest/guest)\n',
  );

  const children = PARTS.flatMap((part) => {
    const child = startPart(part, env, (line) => process.stdout.write(`${line}\n`));
    child?.on('exit', (code, signal) => process.stdout.write(`[up] ${part} exited (${signal ?? code})\n`));
    return child ? [child] : [];
  });
  process.stdout.write(`[up] started ${children.length} processes; Ctrl-C stops them\n`);
  const stop = () => void stopAll(children);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
}

main().catch((error: unknown) => {
  process.stderr.write(`[up] ${(error as Error).message}\n`);
  process.exit(1);
});
