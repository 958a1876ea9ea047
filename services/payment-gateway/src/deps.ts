import type { Config, DataSource, Logger, RedisLock } from '@payments/platform';
import type { OutboxRelay, PaymentChannel, PaymentProvider } from '@payments/core';
import type { FinalStatusCache } from './adapters/final-status-cache';
import type { PaymentRepository } from './adapters/payment-repository';
import type { GatewayMetrics } from './metrics';

/** Everything the gateway's operations use, built once in `app.ts`. */
export interface GatewayDeps {
  config: Config;
  log: Logger;
  dataSource: DataSource;
  repository: PaymentRepository;
  lock: RedisLock;
  finalStatus: FinalStatusCache;
  /** What new payments may use (CHANNELS). */
  channels: Map<string, PaymentChannel>;
  /**
   * Every channel a provider here serves, offered or not: notifications, closes and other-channel
   * closes of attempts already made use these (a channel dropped from CHANNELS keeps its money
   * served while its settings are there: issue 27.3).
   */
  servedChannels: Map<string, PaymentChannel>;
  /** The provider that verifies each `/v1/notify/<route>`. */
  notifyRoutes: Map<string, PaymentProvider>;
  relay: OutboxRelay;
  metrics: GatewayMetrics;
}

/**
 * The per-order lock: held across one apply or close, released at once after. Its lease
 * (ORDER_LOCK_TTL) is renewed while the work under it runs, however many provider calls that
 * takes; a crashed holder frees it once the lease runs out.
 */
export const orderLock = (config: Pick<Config, 'ORDER_LOCK_TTL'>) => ({
  ttlMs: config.ORDER_LOCK_TTL,
  waitMs: 2_000,
  retryEveryMs: 20,
});
export const orderLockName = (merchantOrderNo: string) => `order:${merchantOrderNo}`;
