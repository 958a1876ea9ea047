/**
 * Raw ceilings of the three servers, measured with the same clients the services use: what a
 * payment pipeline on this machine could at best reach.
 */
import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { createPool, type ResultSetHeader } from 'mysql2/promise';
import {
  createRedis,
  databaseOptions,
  pinPoolToUtc,
  RedisLock,
  redisReady,
  redisTarget,
  type Config,
} from '@payments/platform';
import { runFor, type TimedRun } from './pool';
import { round, summarize } from './stats';

const WARMUP_MS = 1000;

function report(run: TimedRun, extra: Record<string, unknown>) {
  const { p50Ms, p99Ms, maxMs } = summarize(run.latenciesMs);
  return {
    ...extra,
    perSecond: round(run.ops / run.seconds, 0),
    ops: run.ops,
    seconds: round(run.seconds, 2),
    p50Ms,
    p99Ms,
    maxMs,
    errors: run.errors,
    ...(run.firstError ? { firstError: run.firstError } : {}),
  };
}

/** BEGIN; INSERT a row; UPDATE that row; COMMIT — on 64 connections, on a scratch table. */
export async function rawDatabase(config: Config, connections = 64, measureMs = 5000) {
  const { host, port, username, password, database } = databaseOptions(config.DATABASE_URL);
  const pool = pinPoolToUtc(
    createPool({
      host,
      port,
      user: username,
      password,
      database,
      connectionLimit: connections,
      waitForConnections: true,
    }),
  );
  try {
    const [[settings]] = (await pool.query(
      'SELECT @@version AS version, @@innodb_flush_log_at_trx_commit AS flushLogAtTrxCommit, @@sync_binlog AS syncBinlog, @@log_bin AS logBin',
    )) as unknown as [Record<string, unknown>[]];
    await pool.query(
      `CREATE TABLE bench_scratch (
         id BIGINT AUTO_INCREMENT PRIMARY KEY,
         k VARCHAR(64) NOT NULL,
         n INT NOT NULL,
         updated_at DATETIME(3) NULL
       ) ENGINE=InnoDB`,
    );
    const held = await Promise.all(Array.from({ length: connections }, () => pool.getConnection()));
    try {
      const run = await runFor(connections, WARMUP_MS, measureMs, async (worker) => {
        const connection = held[worker]!;
        await connection.query('START TRANSACTION');
        try {
          const [inserted] = await connection.query<ResultSetHeader>(
            'INSERT INTO bench_scratch (k, n) VALUES (?, 0)',
            [randomUUID()],
          );
          await connection.query('UPDATE bench_scratch SET n = n + 1, updated_at = NOW(3) WHERE id = ?', [
            inserted.insertId,
          ]);
          await connection.query('COMMIT');
        } catch (error) {
          await connection.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
      return report(run, {
        what: 'BEGIN; INSERT; UPDATE same row; COMMIT (InnoDB, own connection per client)',
        connections,
        server: settings,
      });
    } finally {
      for (const connection of held) connection.release();
      await pool.query('DROP TABLE IF EXISTS bench_scratch').catch(() => undefined);
    }
  } finally {
    await pool.end();
  }
}

/**
 * Persistent publishes to a scratch queue on a confirm channel, `inFlight` unconfirmed at once, to
 * a queue of each of `queueTypes` in turn. `publishedWithWarmUp` counts every confirmed publish,
 * the warm-up's too: what the broker's CPU over the whole call is divided by.
 */
export async function rawRabbit(
  config: Config,
  queueTypes: readonly ('quorum' | 'classic')[] = ['quorum', 'classic'],
  inFlight = 256,
  measureMs = 3000,
) {
  const connection = await amqplib.connect(config.AMQP_URL);
  const results: Record<string, unknown> = {};
  try {
    for (const queueType of queueTypes) {
      let published = 0;
      const channel = await connection.createConfirmChannel();
      const queue = `${config.TOPOLOGY_PREFIX}.bench.scratch.${queueType}`;
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': queueType } });
      const body = Buffer.from(
        JSON.stringify({
          eventId: randomUUID(),
          type: 'payment.succeeded',
          occurredAt: new Date().toISOString(),
          data: { merchantOrderNo: 'bench-0000000000', amount: 1250, currency: 'CNY', note: 'x'.repeat(160) },
        }),
      );
      try {
        const run = await runFor(
          inFlight,
          WARMUP_MS,
          measureMs,
          () =>
            new Promise<void>((resolve, reject) => {
              channel.publish(
                '',
                queue,
                body,
                { persistent: true, contentType: 'application/json', messageId: randomUUID() },
                (error) => {
                  if (error) return reject(error instanceof Error ? error : new Error(String(error)));
                  published += 1;
                  resolve();
                },
              );
            }),
        );
        results[`${queueType}Queue`] = {
          ...report(run, { inFlight, bodyBytes: body.length }),
          publishedWithWarmUp: published,
        };
      } finally {
        await channel.deleteQueue(queue).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  return {
    what: 'confirmed persistent publishes (confirm channel, default exchange → scratch queue, deleted after)',
    ...results,
  };
}

/** `RedisLock` acquire + release on distinct keys, `clients` at once. */
export async function rawRedisLock(config: Config, clients = 64, measureMs = 4000) {
  const redis = createRedis(redisTarget(config));
  redis.on('error', () => undefined);
  try {
    await redisReady(redis);
    const lock = new RedisLock(redis, config.TOPOLOGY_PREFIX);
    let sequence = 0;
    const run = await runFor(clients, WARMUP_MS, measureMs, async (worker) => {
      const handle = await lock.acquire(`bench-${worker}-${sequence++}`, { ttlMs: 10_000, waitMs: 0 });
      if (!handle) throw new Error('a distinct key was busy');
      if (!(await handle.release())) throw new Error('release found the lock gone');
    });
    return report(run, { what: 'RedisLock.acquire + release, distinct keys (one ioredis client)', clients });
  } finally {
    redis.disconnect();
  }
}
