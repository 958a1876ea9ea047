import Redis from 'ioredis';

/**
 * A Redis client that fails fast: no offline queue and one retry per request, so a Redis outage
 * becomes an error the caller turns into 503 instead of a request that hangs.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
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
