import { Counter, Gauge, type Registry } from '@payments/platform';
import { settlementMetrics } from '@payments/core';
import type { AttemptRepository } from './adapters/attempt-repository';

export function createPollerMetrics(registry: Registry, attempts: AttemptRepository) {
  const queries = new Counter({
    name: 'poll_queries_total',
    help: 'Provider queries by result',
    labelNames: ['result'],
    registers: [registry],
  });
  const swept = new Counter({
    name: 'poll_sweep_requeued_total',
    help: 'Attempts re-enqueued by the backstop sweep',
    registers: [registry],
  });
  const expired = new Counter({
    name: 'pay_orders_expired_total',
    help: 'Pay orders closed at expiry',
    registers: [registry],
  });
  new Gauge({
    name: 'inflight_attempt_age_seconds',
    help: 'Age of the oldest attempt still PAYING',
    registers: [registry],
    async collect() {
      this.set(await attempts.oldestInflightAgeSeconds().catch(() => -1));
    },
  });
  return {
    queries,
    swept,
    expired,
    observeSettlement: settlementMetrics(registry),
  };
}

export type PollerMetrics = ReturnType<typeof createPollerMetrics>;
