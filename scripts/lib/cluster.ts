/**
 * A RabbitMQ cluster of three nodes and a Redis primary with one replica under three Sentinels,
 * all on this machine, from the locally installed `rabbitmq-server` and `redis-server`
 * (CONTRACT 12). Each has its own ports, node name, cookie and data folder, so the machine's
 * own RabbitMQ (5672) and Redis (6379) are never touched. Used by `npm run cluster` and by the
 * cluster chaos test, which stops and starts nodes through it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { portOpen } from './ports';

const run = promisify(execFile);

export const CLUSTER_DIR = process.env.CLUSTER_DIR ?? join(tmpdir(), 'payments-cluster');
/** The cluster's Erlang cookie (test only: a local cluster on loopback). */
const COOKIE = 'PAYMENTS-LOCAL-CLUSTER-TEST-ONLY';

export interface RabbitNode {
  index: number;
  name: string;
  amqpPort: number;
  distPort: number;
  managementPort: number;
}

export const RABBIT_NODES: readonly RabbitNode[] = [0, 1, 2].map((index) => ({
  index,
  name: `payments-${index + 1}@localhost`,
  amqpPort: 5701 + index,
  distPort: 25701 + index,
  managementPort: 15701 + index,
}));

export const REDIS_PRIMARY_PORT = 6391;
export const REDIS_REPLICA_PORT = 6392;
export const SENTINEL_PORTS = [26391, 26392, 26393] as const;
export const SENTINEL_NAME = 'mymaster';

/** What a service of ours is given to use the cluster. */
export function clusterEnv(): Record<string, string> {
  return {
    AMQP_URL: RABBIT_NODES.map((node) => `amqp://guest:guest@127.0.0.1:${node.amqpPort}`).join(','),
    REDIS_SENTINELS: SENTINEL_PORTS.map((port) => `127.0.0.1:${port}`).join(','),
    REDIS_SENTINEL_NAME: SENTINEL_NAME,
  };
}

/** Whether this machine has what the cluster is made of (RabbitMQ's scripts, Redis). */
export function clusterServersInstalled(): boolean {
  const onPath = (command: string) =>
    spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
  return (
    (existsSync(rabbitBin('rabbitmq-server')) || onPath('rabbitmq-server')) &&
    onPath('redis-server') &&
    onPath('redis-cli')
  );
}

/** The real scripts: Debian's `/usr/sbin` wrappers re-run them as the `rabbitmq` user, with its cookie. */
function rabbitBin(name: string): string {
  const packaged = `/usr/lib/rabbitmq/bin/${name}`;
  return existsSync(packaged) ? packaged : name;
}

function rabbitEnv(node: RabbitNode): NodeJS.ProcessEnv {
  const dir = join(CLUSTER_DIR, `rabbit-${node.index + 1}`);
  return {
    ...process.env,
    HOME: CLUSTER_DIR, // where the Erlang cookie is, for the servers and for the CLI tools alike
    RABBITMQ_CONF_ENV_FILE: join(CLUSTER_DIR, 'rabbitmq-env.conf'), // not the machine's own
    RABBITMQ_NODENAME: node.name,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(node.amqpPort),
    RABBITMQ_DIST_PORT: String(node.distPort),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    // The Erlang VM (and each CLI call) writes a crash dump there, not into the caller's folder.
    ERL_CRASH_DUMP: join(dir, 'erl_crash.dump'),
  };
}

/** A RabbitMQ CLI command against one node; rejects with its output when it fails. */
export async function rabbitctl(tool: string, node: RabbitNode, args: string[], timeoutMs = 60_000) {
  try {
    const { stdout } = await run(rabbitBin(tool), ['-n', node.name, ...args], {
      env: rabbitEnv(node),
      timeout: timeoutMs,
    });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${tool} ${args.join(' ')} on ${node.name} failed: ${(stderr || stdout || '').trim().slice(0, 400)}`,
    );
  }
}

export async function rabbitRunning(node: RabbitNode): Promise<boolean> {
  return rabbitctl('rabbitmqctl', node, ['-q', 'await_startup', '--timeout', '2'], 10_000).then(
    () => true,
    () => false,
  );
}

function writeRabbitFiles(node: RabbitNode): void {
  const dir = join(CLUSTER_DIR, `rabbit-${node.index + 1}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${node.amqpPort}`,
      `management.tcp.ip = 127.0.0.1`,
      `management.tcp.port = ${node.managementPort}`,
      // A node stopped on purpose is not a partition to heal by hand.
      'cluster_partition_handling = pause_minority',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
}

/** Starts one node (detached) and waits until it serves; a node already running is left as it is. */
export async function startRabbitNode(node: RabbitNode): Promise<void> {
  if (await rabbitRunning(node)) return;
  // Its distribution port taken: the node is booting already (a second one would crash on it).
  if (await portOpen('127.0.0.1', node.distPort)) {
    await waitFor(`${node.name} to start`, () => rabbitRunning(node), 180_000);
    return;
  }
  writeRabbitFiles(node);
  await run(rabbitBin('rabbitmq-server'), ['-detached'], { env: rabbitEnv(node), timeout: 30_000 });
  // await_startup fails at once while the node has not yet registered its name: poll it.
  await waitFor(`${node.name} to start`, () => rabbitRunning(node), 180_000);
}

/** Stops one node's Erlang VM (as a crash or a reboot would take it away). */
export async function stopRabbitNode(node: RabbitNode): Promise<void> {
  // Still booting (its distribution port taken, not answering yet): stopped once it answers.
  if (!(await rabbitRunning(node)) && (await portOpen('127.0.0.1', node.distPort)))
    await waitFor(`${node.name} to start`, () => rabbitRunning(node), 180_000).catch(() => undefined);
  if (!(await rabbitRunning(node))) return;
  await rabbitctl('rabbitmqctl', node, ['-q', 'stop'], 60_000);
}

/** The nodes the first node sees running in its cluster. */
export async function runningMembers(): Promise<string[]> {
  for (const node of RABBIT_NODES) {
    try {
      const status = JSON.parse(
        await rabbitctl('rabbitmqctl', node, ['cluster_status', '--formatter', 'json'], 15_000),
      ) as { running_nodes?: string[] };
      return status.running_nodes ?? [];
    } catch {
      // ask the next
    }
  }
  return [];
}

/** The node that leads a quorum queue now (its Raft leader), or undefined when none answers. */
export async function queueLeader(queue: string): Promise<string | undefined> {
  for (const node of RABBIT_NODES) {
    try {
      const rows = JSON.parse(
        await rabbitctl(
          'rabbitmqctl',
          node,
          ['list_queues', 'name', 'leader', '--formatter', 'json', '-q'],
          15_000,
        ),
      ) as { name: string; leader?: string }[];
      return rows.find((row) => row.name === queue)?.leader;
    } catch {
      // ask the next
    }
  }
  return undefined;
}

async function redisCli(port: number, args: string[]): Promise<string> {
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

async function startRedis(port: number, replicaOf?: number): Promise<void> {
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
async function startSentinel(port: number): Promise<void> {
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

async function joinCluster(): Promise<void> {
  const [first, ...others] = RABBIT_NODES as [RabbitNode, ...RabbitNode[]];
  const members = await runningMembers();
  for (const node of others) {
    if (members.includes(node.name)) continue;
    await rabbitctl('rabbitmqctl', node, ['-q', 'stop_app']);
    await rabbitctl('rabbitmqctl', node, ['-q', 'reset']);
    await rabbitctl('rabbitmqctl', node, ['-q', 'join_cluster', first.name]);
    await rabbitctl('rabbitmqctl', node, ['-q', 'start_app']);
  }
}

/** Everything up and joined; what already runs is kept. Safe to run again. */
export async function clusterUp(log: (line: string) => void = () => undefined): Promise<void> {
  mkdirSync(CLUSTER_DIR, { recursive: true });
  const cookie = join(CLUSTER_DIR, '.erlang.cookie');
  if (!existsSync(cookie)) {
    writeFileSync(cookie, COOKIE);
    chmodSync(cookie, 0o400);
  }
  writeFileSync(join(CLUSTER_DIR, 'rabbitmq-env.conf'), '');
  log('starting RabbitMQ nodes');
  await Promise.all(RABBIT_NODES.map((node) => startRabbitNode(node)));
  await joinCluster();
  log(`RabbitMQ cluster: ${(await runningMembers()).join(', ')}`);
  await startRedis(REDIS_PRIMARY_PORT);
  await startRedis(REDIS_REPLICA_PORT, REDIS_PRIMARY_PORT);
  for (const port of SENTINEL_PORTS) await startSentinel(port);
  await waitFor(
    'the Sentinels to see the replica',
    async () => {
      const replicas = await redisCli(SENTINEL_PORTS[0], ['sentinel', 'replicas', SENTINEL_NAME]).catch(
        () => '',
      );
      return replicas.includes(String(REDIS_REPLICA_PORT));
    },
    30_000,
  );
  log(`Redis primary on ${await sentinelPrimaryPort()}, Sentinels on ${SENTINEL_PORTS.join(', ')}`);
}

/** Stops every node and server of the cluster and removes its folder: nothing is left running. */
export async function clusterDown(log: (line: string) => void = () => undefined): Promise<void> {
  await Promise.all(
    RABBIT_NODES.map((node) =>
      stopRabbitNode(node).catch((error: unknown) =>
        log(`stopping ${node.name}: ${(error as Error).message}`),
      ),
    ),
  );
  for (const port of [...SENTINEL_PORTS, REDIS_REPLICA_PORT, REDIS_PRIMARY_PORT]) {
    if (await redisAnswers(port)) await redisCli(port, ['shutdown', 'nosave']).catch(() => undefined);
  }
  rmSync(CLUSTER_DIR, { recursive: true, force: true });
  log('cluster stopped and removed');
}

export async function clusterStatus(): Promise<string[]> {
  const lines: string[] = [];
  for (const node of RABBIT_NODES) {
    lines.push(
      `${node.name}: ${(await rabbitRunning(node)) ? 'running' : 'stopped'} (amqp ${node.amqpPort}, management ${node.managementPort})`,
    );
  }
  lines.push(`cluster members running: ${(await runningMembers()).join(', ') || 'none'}`);
  for (const port of [REDIS_PRIMARY_PORT, REDIS_REPLICA_PORT]) {
    const role = await redisCli(port, ['role']).then(
      (answer) => answer.split('\n')[0],
      () => 'stopped',
    );
    lines.push(`redis ${port}: ${role}`);
  }
  for (const port of SENTINEL_PORTS)
    lines.push(`sentinel ${port}: ${(await redisAnswers(port)) ? 'running' : 'stopped'}`);
  lines.push(`primary named by the Sentinels: ${(await sentinelPrimaryPort()) ?? 'none'}`);
  return lines;
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
