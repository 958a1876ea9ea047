import { DependencyUnavailableError, redisKey } from '@payments/platform';
import type Redis from 'ioredis';

export type FinalStatus = 'PAID' | 'CLOSED';

/** A final status never changes, so a day of memory is safe; it only spares the lock. */
const TTL_SECONDS = 24 * 60 * 60;

/**
 * Remembers orders whose pay order reached a final status, so the repeated clicks on an order
 * that is paid or closed are refused without taking its lock, and orders that exist at all
 * (`EXISTS`), so that only an order never seen is created without being read first. A hint only:
 * the database confirms every hit before anyone is refused (DESIGN rule 1), and its unique key
 * refuses a second pay order for an order the cache forgot.
 */
export class FinalStatusCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private keyFor(merchantOrderNo: string): string {
    return redisKey(this.prefix, `final:${merchantOrderNo}`);
  }

  /** Redis down → throws, like the lock would: applies fail closed. */
  async get(merchantOrderNo: string): Promise<FinalStatus | undefined> {
    const known = await this.lookup(merchantOrderNo);
    return known === 'EXISTS' ? undefined : known;
  }

  /** What the cache knows of the order: a final status, that it exists, or nothing. */
  async lookup(merchantOrderNo: string): Promise<FinalStatus | 'EXISTS' | undefined> {
    let value: string | null;
    try {
      value = await this.redis.get(this.keyFor(merchantOrderNo));
    } catch (error) {
      throw new DependencyUnavailableError('redis', { cause: error });
    }
    return value === 'PAID' || value === 'CLOSED' || value === 'EXISTS' ? value : undefined;
  }

  /** Best effort, and never over a final status: the order exists. */
  rememberExists(merchantOrderNo: string): void {
    void this.redis
      .set(this.keyFor(merchantOrderNo), 'EXISTS', 'EX', TTL_SECONDS, 'NX')
      .catch(() => undefined);
  }

  /**
   * Best effort: a cache that could not be written costs a lock next time, nothing more. A status
   * that is not final is remembered as `EXISTS`.
   */
  async remember(merchantOrderNo: string, status: string): Promise<void> {
    if (status !== 'PAID' && status !== 'CLOSED') return this.rememberExists(merchantOrderNo);
    await this.redis.set(this.keyFor(merchantOrderNo), status, 'EX', TTL_SECONDS).catch(() => undefined);
  }
}
