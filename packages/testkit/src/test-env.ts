/**
 * Integration-test harness: each test file gets its own TOPOLOGY_PREFIX and database, so runs do
 * not collide, and everything it made is removed at the end. Talks to the real servers.
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import {
  connectToAnyNode,
  createRedis,
  databaseOptions,
  redisTarget,
  topologyFor,
  type Config,
} from '@payments/platform';
import { migrate } from '@payments/core';
import { loadConfig } from '@payments/providers';

export interface TestEnv {
  config: Config;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A config with a fresh prefix and database (migrated), short schedules, and `overrides`. */
export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const base = loadConfig(process.env);
  const server = databaseOptions(base.DATABASE_URL);
  const credentials = server.password ? `${server.username}:${server.password}` : server.username;
  const env: Record<string, string> = {
    TOPOLOGY_PREFIX: id,
    DATABASE_URL: `mysql://${credentials}@${server.host}:${server.port}/payments_${id}`,
    POLL_SCHEDULE: '300ms,600ms,1s',
    NOTIFY_SCHEDULE: '300ms,600ms,1s',
    REFUND_POLL_SCHEDULE: '200ms,500ms,1s',
    RETRY_SCHEDULE: '200ms,400ms',
    SWEEP_INTERVAL: '2s',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
  const config = loadConfig({ ...process.env, ...env });
  await migrate(config.DATABASE_URL);
  return {
    config,
    env,
    cleanup: () => destroyTestEnv(config),
  };
}

/** Deletes the prefix's queues and exchanges, its Redis keys and its database. */
export async function destroyTestEnv(config: Config): Promise<void> {
  const topology = topologyFor(config);
  const connection = await connectToAnyNode(config.AMQP_URL);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    for (const queue of topology.queues()) await channel.deleteQueue(queue.name);
    for (const exchange of topology.exchanges()) await channel.deleteExchange(exchange.name);
    await channel.close();
  } finally {
    await connection.close();
  }
  const redis = createRedis(redisTarget(config));
  try {
    await new Promise((resolve) => redis.once('ready', resolve));
    const keys = await redis.keys(`${config.TOPOLOGY_PREFIX}.*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  const { database, host, port, username, password } = databaseOptions(config.DATABASE_URL);
  const db = await createConnection({ host, port, user: username, password });
  try {
    await db.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await db.end();
  }
}
