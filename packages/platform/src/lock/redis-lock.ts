import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { DependencyUnavailableError } from '../errors';
import { redisKey } from './redis';

/** Deletes the key only if it still holds our token: a lock that expired and was taken is not ours. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Extends the lease only if we still hold it. */
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface LockOptions {
  /** Lease: the lock frees itself after this long if its holder dies. */
  ttlMs: number;
  /** How long to wait for a busy lock before giving up. */
  waitMs: number;
  retryEveryMs?: number;
}

export interface LockHandle {
  key: string;
  token: string;
  /** The lock was busy when first asked for: someone else was working under it meanwhile. */
  waited: boolean;
  release(): Promise<boolean>;
  extend(ttlMs: number): Promise<boolean>;
}

/** Whether a lock taken by `withLock` is still ours, and whether it was busy when first asked for. */
export interface LockGuard {
  held(): boolean;
  waited: boolean;
}

/**
 * A per-key Redis lock (SET NX PX, token-checked release in Lua). It keeps work from colliding;
 * correctness never rests on it alone (DESIGN rule 1): the database's unique keys and
 * conditional updates do.
 */
export class RedisLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private keyFor(name: string): string {
    return redisKey(this.prefix, `lock:${name}`);
  }

  /** Returns the handle, or undefined when the lock stayed busy for `waitMs`. Redis down → throws. */
  async acquire(name: string, options: LockOptions): Promise<LockHandle | undefined> {
    const key = this.keyFor(name);
    const token = randomUUID();
    const deadline = Date.now() + options.waitMs;
    const retryEveryMs = options.retryEveryMs ?? 20;
    let asked = 0;
    for (;;) {
      asked += 1;
      let ok: string | null;
      try {
        ok = await this.redis.set(key, token, 'PX', options.ttlMs, 'NX');
      } catch (error) {
        throw new DependencyUnavailableError('redis', { cause: error });
      }
      if (ok === 'OK') return this.handle(key, token, asked > 1);
      if (Date.now() + retryEveryMs > deadline) return undefined;
      await new Promise((resolve) =>
        setTimeout(resolve, retryEveryMs + Math.floor(Math.random() * retryEveryMs)),
      );
    }
  }

  /**
   * Runs `work` holding the lock, renewing its lease every third of `ttlMs` for as long as the work
   * runs, so slow provider calls under it never outlive it. `work` gets a guard telling whether
   * the lock is still ours (a renewal found it taken or Redis unreachable past the lease): check
   * it before a step that must not run unguarded. `acquired: false` when it stayed busy.
   */
  async withLock<T>(
    name: string,
    options: LockOptions,
    work: (guard: LockGuard) => Promise<T>,
  ): Promise<{ acquired: true; result: T } | { acquired: false }> {
    const handle = await this.acquire(name, options);
    if (!handle) return { acquired: false };
    // Ours until then: pushed on by each renewal, unchanged while Redis is unreachable (the lease
    // we had still runs out), ended at once when a renewal finds the key no longer ours.
    let heldUntil = Date.now() + options.ttlMs;
    const renew = async () => {
      const startedAt = Date.now();
      const extended = await handle.extend(options.ttlMs).catch(() => undefined);
      if (extended === true) heldUntil = startedAt + options.ttlMs;
      else if (extended === false) heldUntil = 0;
    };
    let renewing: Promise<void> | undefined;
    const timer = setInterval(
      () => {
        renewing ??= renew().finally(() => (renewing = undefined));
      },
      Math.max(1, Math.floor(options.ttlMs / 3)),
    );
    const guard: LockGuard = { held: () => Date.now() < heldUntil, waited: handle.waited };
    try {
      return { acquired: true, result: await work(guard) };
    } finally {
      clearInterval(timer);
      await renewing;
      await handle.release().catch(() => false);
    }
  }

  private handle(key: string, token: string, waited: boolean): LockHandle {
    return {
      key,
      token,
      waited,
      release: async () => (await this.redis.eval(RELEASE, 1, key, token)) === 1,
      extend: async (ttlMs: number) => (await this.redis.eval(EXTEND, 1, key, token, String(ttlMs))) === 1,
    };
  }
}
