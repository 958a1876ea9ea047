import type { Config, DataSource, Logger, OutboxRelay, PaymentChannel } from '@payments/common';
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
