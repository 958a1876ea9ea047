/**
 * Makes sure RabbitMQ (with the management plugin), Redis and MariaDB/MySQL answer:
 * uses the running ones; else starts the locally installed servers; else `docker compose up -d`
 * where Docker works. Exits non-zero with a clear message when a server cannot be had.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { portOpen } from './lib/ports';
import {
  amqpNodes,
  databaseOptions,
  ensureDatabase,
  loadConfigOrExit,
  type Config,
} from '@payments/platform';

type Server = { name: string; host: string; port: number; startLocal: string[][] };

function say(message: string): void {
  process.stdout.write(`[infra] ${message}\n`);
}

function isLocal(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1'].includes(host);
}

async function waitForPort(host: string, port: number, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 2; i++) {
    if (await portOpen(host, port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command: string[]): boolean {
  const result = spawnSync(command[0]!, command.slice(1), { stdio: 'ignore', timeout: 60_000 });
  return result.status === 0;
}

function dockerWorks(): boolean {
  return (
    commandExists('docker') &&
    spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0
  );
}

function servers(config: Config): Server[] {
  const amqp = new URL(amqpNodes(config.AMQP_URL)[0]!.replace(/^amqps?:/, 'http:'));
  const redis = new URL(config.REDIS_URL.replace(/^rediss?:/, 'http:'));
  const db = databaseOptions(config.DATABASE_URL);
  return [
    {
      name: 'RabbitMQ',
      host: amqp.hostname,
      port: Number(amqp.port || 5672),
      startLocal: [['rabbitmq-server', '-detached']],
    },
    {
      name: 'Redis',
      host: redis.hostname,
      port: Number(redis.port || 6379),
      startLocal: [
        ['sh', '-c', 'mkdir -p /var/lib/redis /var/log/redis 2>/dev/null; true'],
        [
          'redis-server',
          '--daemonize',
          'yes',
          '--bind',
          '127.0.0.1',
          '--port',
          String(redis.port || 6379),
          '--save',
          '',
          '--appendonly',
          'no',
        ],
      ],
    },
    {
      name: 'MariaDB/MySQL',
      host: db.host,
      port: db.port,
      startLocal: [
        ['start-stop-daemon', '--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd'],
      ],
    },
  ];
}

async function ensureServer(server: Server): Promise<'running' | 'started' | 'docker' | 'missing'> {
  if (await portOpen(server.host, server.port)) return 'running';
  if (isLocal(server.host)) {
    const binary = server.startLocal[server.startLocal.length - 1]![0]!;
    const installed =
      binary === 'start-stop-daemon'
        ? commandExists('mariadbd') || commandExists('/usr/sbin/mariadbd')
        : commandExists(binary);
    if (installed) {
      say(`${server.name} is not answering on ${server.host}:${server.port}; starting the local server`);
      server.startLocal.forEach(run);
      if (await waitForPort(server.host, server.port, 60)) return 'started';
    }
    if (dockerWorks()) {
      say(`starting ${server.name} with docker compose`);
      run(['docker', 'compose', 'up', '-d', 'rabbitmq', 'redis', 'mysql']);
      if (await waitForPort(server.host, server.port, 120)) return 'docker';
    }
  }
  return 'missing';
}

async function ensureManagementPlugin(config: Config): Promise<void> {
  const amqp = new URL(amqpNodes(config.AMQP_URL)[0]!.replace(/^amqps?:/, 'http:'));
  if (await portOpen(amqp.hostname, 15672)) return;
  if (!isLocal(amqp.hostname) || !commandExists('rabbitmq-plugins')) {
    say('management UI not reachable on port 15672 and cannot enable it from here (not a local broker)');
    return;
  }
  say('enabling the RabbitMQ management plugin');
  try {
    execFileSync('rabbitmq-plugins', ['enable', 'rabbitmq_management'], {
      stdio: 'ignore',
      timeout: 120_000,
    });
  } catch {
    throw new Error(
      'could not enable rabbitmq_management (run: rabbitmq-plugins enable rabbitmq_management)',
    );
  }
  if (!(await waitForPort(amqp.hostname, 15672, 60)))
    throw new Error('management UI did not come up on port 15672');
}

export async function ensureInfrastructure(config: Config): Promise<void> {
  for (const server of servers(config)) {
    const state = await ensureServer(server);
    if (state === 'missing') {
      throw new Error(
        `${server.name} cannot be reached at ${server.host}:${server.port}, is not installed locally, and Docker is not available`,
      );
    }
    say(`${server.name} ${state} at ${server.host}:${server.port}`);
  }
  await ensureManagementPlugin(config);
  say('management UI at http://127.0.0.1:15672 (guest/guest)');
  // MariaDB may accept TCP before it accepts logins.
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureDatabase(config.DATABASE_URL);
      break;
    } catch (error) {
      if (attempt >= 30) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  say(`database ${databaseOptions(config.DATABASE_URL).database} ready`);
}

if (require.main === module) {
  ensureInfrastructure(loadConfigOrExit()).catch((error: unknown) => {
    process.stderr.write(`[infra] ${(error as Error).message}\n`);
    process.exit(1);
  });
}
