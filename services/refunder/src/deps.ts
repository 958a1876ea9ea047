import type { Config, Logger } from '@payments/platform';
import type { OutboxRelay, PaymentChannel } from '@payments/core';
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
