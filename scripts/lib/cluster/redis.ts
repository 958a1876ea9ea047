/**
 * The cluster's Redis: a primary with one replica under three Sentinels, from the locally installed
 * `redis-server`, each with its own port and folder under CLUSTER_DIR; failovers asked for or forced.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLUSTER_DIR, waitFor } from './place';

const run = promisify(execFile);

export const REDIS_PRIMARY_PORT = 6391;
export const REDIS_REPLICA_PORT = 6392;
export const SENTINEL_PORTS = [26391, 26392, 26393] as const;
export const SENTINEL_NAME = 'mymaster';

/** A redis-cli command against the Redis or Sentinel on `port`. */
export async function redisCli(port: number, args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 10_000,
  });
  return stdout.trim();
}

export async function redisAnswers(port: number): Promise<boolean> {
  return redisCli(port, ['ping']).then(
    (answer) => answer === 'PONG',
    () => false,
  );
}

export async function startRedis(port: number, replicaOf?: number): Promise<void> {
  if (await redisAnswers(port)) return;
  const dir = join(CLUSTER_DIR, `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  await run(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--pidfile',
      join(dir, 'redis.pid'),
      '--logfile',
      join(dir, 'redis.log'),
      ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ],
    { timeout: 10_000 },
  );
  await waitFor(`redis on ${port}`, () => redisAnswers(port));
}

/** A Sentinel of the primary, told to call it down after 1 s of silence (a quick failover for tests). */
export async function startSentinel(port: number): Promise<void> {
  if (await redisAnswers(port)) return;
  const dir = join(CLUSTER_DIR, `sentinel-${port}`);
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'sentinel.conf'); // a Sentinel rewrites its own file: one per Sentinel
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'daemonize yes',
      `pidfile ${join(dir, 'sentinel.pid')}`,
      `logfile ${join(dir, 'sentinel.log')}`,
      `dir ${dir}`,
      `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${REDIS_PRIMARY_PORT} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
      `sentinel failover-timeout ${SENTINEL_NAME} 10000`,
      `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
      '',
    ].join('\n'),
  );
  await run('redis-server', [conf, '--sentinel'], { timeout: 10_000 });
  await waitFor(`sentinel on ${port}`, () => redisAnswers(port));
}

/** The primary's port as the Sentinels name it now. */
export async function sentinelPrimaryPort(): Promise<number | undefined> {
  for (const port of SENTINEL_PORTS) {
    try {
      const [, primaryPort] = (
        await redisCli(port, ['sentinel', 'get-master-addr-by-name', SENTINEL_NAME])
      ).split('\n');
      if (primaryPort) return Number(primaryPort);
    } catch {
      // ask the next
    }
  }
  return undefined;
}

/** Asks the Sentinels for a failover (the primary is demoted, the replica promoted) and waits for it. */
export async function sentinelFailover(): Promise<{ from: number; to: number }> {
  const from = (await sentinelPrimaryPort())!;
  await redisCli(SENTINEL_PORTS[0], ['sentinel', 'failover', SENTINEL_NAME]);
  const to = await waitFor('the Sentinels to name a new primary', async () => {
    const now = await sentinelPrimaryPort();
    return now !== undefined && now !== from ? now : undefined;
  });
  return { from, to };
}

/** Kills the primary outright (SIGKILL, as a lost machine); the Sentinels then promote the replica. */
export async function killRedisPrimary(): Promise<{ killed: number; to: number }> {
  const killed = (await sentinelPrimaryPort())!;
  const pid = Number(
    await redisCli(killed, ['info', 'server']).then((info) => /process_id:(\d+)/.exec(info)?.[1]),
  );
  process.kill(pid, 'SIGKILL');
  const to = await waitFor(
    'the Sentinels to promote the replica',
    async () => {
      const now = await sentinelPrimaryPort();
      return now !== undefined && now !== killed ? now : undefined;
    },
    60_000,
  );
  return { killed, to };
}

/** Starts a killed Redis node again, as a replica of the primary the Sentinels name now. */
export async function restartRedisAsReplica(port: number): Promise<void> {
  const primary = (await sentinelPrimaryPort())!;
  await startRedis(port, primary);
}
