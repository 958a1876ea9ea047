import Redis, { type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config';

/**
 * A Redis client that fails fast: no offline queue and one retry per request, so a Redis outage
 * (or a Sentinel failover) becomes an error the caller turns into 503 instead of a request that
 * hangs. With Sentinels it asks them for the primary, reconnects when they announce a new one,
 * and drops a connection whose node was demoted (a write answered READONLY), so the lock always
 * lives on whichever node is primary now.
 */
export function createRedis(target: string | RedisTarget): Redis {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  };
  if (typeof target === 'string') return new Redis(target, options);
  if ('url' in target) return new Redis(target.url, options);
  return new Redis({
    ...options,
    sentinels: target.sentinels,
    name: target.name,
    sentinelRetryStrategy: (times) => Math.min(times * 200, 2000),
    failoverDetector: true,
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 1 : false),
  });
}

/** A Redis key under `TOPOLOGY_PREFIX` (CONTRACT 2: every key starts with `<prefix>.` when one is set). */
export function redisKey(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** Waits for the first connection (start-up), or rejects after `timeoutMs`. */
export async function redisReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error('redis connection timed out'));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
