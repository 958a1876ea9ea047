/**
 * A RabbitMQ cluster of three nodes and a Redis primary with one replica under three Sentinels,
 * all on this machine, from the locally installed `rabbitmq-server` and `redis-server`
 * (CONTRACT 12). Each has its own ports, node name, cookie and data folder, so the machine's
 * own RabbitMQ (5672) and Redis (6379) are never touched. Used by `npm run cluster` and by the
 * cluster chaos test, which stops and starts nodes through it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_DIR, waitFor } from './cluster/place';
import {
  joinCluster,
  RABBIT_NODES,
  rabbitBin,
  rabbitRunning,
  runningMembers,
  startRabbitNode,
  stopRabbitNode,
} from './cluster/rabbit';
import {
  REDIS_PRIMARY_PORT,
  REDIS_REPLICA_PORT,
  redisAnswers,
  redisCli,
  SENTINEL_NAME,
  SENTINEL_PORTS,
  sentinelPrimaryPort,
  startRedis,
  startSentinel,
} from './cluster/redis';

export { CLUSTER_DIR } from './cluster/place';
export {
  queueLeader,
  RABBIT_NODES,
  rabbitctl,
  rabbitRunning,
  runningMembers,
  startRabbitNode,
  stopRabbitNode,
  type RabbitNode,
} from './cluster/rabbit';
export {
  killRedisPrimary,
  REDIS_PRIMARY_PORT,
  REDIS_REPLICA_PORT,
  redisAnswers,
  restartRedisAsReplica,
  SENTINEL_NAME,
  SENTINEL_PORTS,
  sentinelFailover,
  sentinelPrimaryPort,
} from './cluster/redis';

/** The cluster's Erlang cookie (test only: a local cluster on loopback). */
const COOKIE = 'PAYMENTS-LOCAL-CLUSTER-TEST-ONLY';

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
