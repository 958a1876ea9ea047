import type { Config, DataSource, Logger } from '@payments/platform';
import type { OutboxRelay, PaymentChannel } from '@payments/core';
import type { AttemptRepository } from './adapters/attempt-repository';
import type { PollerMetrics } from './metrics';

export interface PollerDeps {
  config: Config;
  log: Logger;
  dataSource: DataSource;
  attempts: AttemptRepository;
  channels: Map<string, PaymentChannel>;
  relay: OutboxRelay;
  metrics: PollerMetrics;
}
