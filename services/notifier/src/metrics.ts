import { Counter, Histogram, type Registry } from '@payments/platform';

export function createNotifierMetrics(registry: Registry) {
  return {
    notifications: new Counter({
      name: 'notifications_total',
      help: 'Order-service notifications by result (delivered, retry, failed, skipped, resent by the sweep)',
      labelNames: ['result'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'notify_latency_seconds',
      help: 'From the payment being settled (callback or poll) to the order service having it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600],
      registers: [registry],
    }),
  };
}

export type NotifierMetrics = ReturnType<typeof createNotifierMetrics>;
