import type CircuitBreaker from 'opossum';
import type { Config, Logger } from '@payments/platform';
import type { OrderNotification, OutboxRelay } from '@payments/core';
import type { NotificationLogRepository } from './adapters/notification-log';
import type { NotifierMetrics } from './metrics';

export interface NotifierDeps {
  config: Config;
  log: Logger;
  notifications: NotificationLogRepository;
  /** The order service, behind its breaker. */
  orderService: CircuitBreaker<[OrderNotification], void>;
  relay: OutboxRelay;
  /** `payments.events` with TOPOLOGY_PREFIX: where a payment's first delivery comes from. */
  eventsExchange: string;
  metrics: NotifierMetrics;
}
