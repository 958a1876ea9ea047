import type { Config, Logger, OutboxRelay, PaymentChannel } from '@payments/common';
import type { RefundRepository } from './adapters/refund-repository';
import type { RefunderMetrics } from './metrics';

export interface RefunderDeps {
  config: Config;
  log: Logger;
  refunds: RefundRepository;
  channels: Map<string, PaymentChannel>;
  relay: OutboxRelay;
  metrics: RefunderMetrics;
}

export const riskLimits = (config: Config) => ({
  autoMaxAmount: config.REFUND_AUTO_MAX_AMOUNT,
  dailyCap: config.REFUND_DAILY_CAP,
});
