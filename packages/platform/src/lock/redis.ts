import Redis, { type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config';

/**
 * A Redis client that fails fast: no offline queue and one retry per request, so a Redis outage
 * (or a Sentinel failover) becomes an error the caller turns into 503 instead of a request that
 * hangs. With Sentinels it asks them for the primary on every (re)connection, and drops a
 * connection whose node was demoted (a write answered READONLY), so the lock always lives on
 * whichever node is primary now. A demoted primary's clients are also disconnected by the
 * Sentinels themselves (`CLIENT KILL` on reconfiguration).
 *
 * ioredis's own failover detector is off: when it fires while the client is still asking the
 * Sentinels (the primary killed, the new one announced meanwhile), the client ends for good
 * ("Connection is closed.", status `end`, no retry), seen in the cluster chaos test. And any
 * such end that we did not ask for is followed by a new connection (`keepConnecting`).
 */
export function createRedis(target: string | RedisTarget): Redis {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  };
  if (typeof target === 'string') return keepConnecting(new Redis(target, options));
  // A password given beside the URL wins over one inside it.
  if ('url' in target)
    return keepConnecting(new Redis(target.url, { ...options, ...passwords(target.password) }));
  return keepConnecting(
    new Redis({
      ...options,
      ...passwords(target.password, target.sentinelPassword),
      sentinels: target.sentinels,
      name: target.name,
      sentinelRetryStrategy: (times) => Math.min(times * 200, 2000),
      reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 1 : false),
    }),
  );
}

/** Only the passwords given: an `undefined` option would still override a URL's own password. */
function passwords(password?: string, sentinelPassword?: string): Partial<RedisOptions> {
  return {
    ...(password ? { password } : {}),
    ...(sentinelPassword ? { sentinelPassword } : {}),
  };
}

const RECONNECT_AFTER_END_MS = 1000;

/**
 * ioredis gives up for good when a connection attempt fails in some ways (status `end`): connects
 * again after such an end, unless it came from our own `disconnect` or `quit`.
 */
function keepConnecting(redis: Redis): Redis {
  let closing = false;
  const disconnect = redis.disconnect.bind(redis);
  redis.disconnect = (reconnect = false) => {
    if (!reconnect) closing = true;
    disconnect(reconnect);
  };
  const quit = redis.quit.bind(redis);
  redis.quit = ((...args: Parameters<typeof quit>) => {
    closing = true;
    return quit(...args);
  }) as typeof redis.quit;
  redis.on('end', () => {
    if (closing) return;
    setTimeout(() => {
      if (!closing && redis.status === 'end') redis.connect().catch(() => undefined);
    }, RECONNECT_AFTER_END_MS).unref();
  });
  return redis;
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
