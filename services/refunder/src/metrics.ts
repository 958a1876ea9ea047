import { Counter, type Registry } from '@payments/platform';
import { refundMetrics } from '@payments/core';

export function createRefunderMetrics(registry: Registry) {
  return {
    refunds: refundMetrics(registry),
    anomalies: new Counter({
      name: 'refund_anomalies_total',
      help: 'Refunds refused by the hard checks (a person must look)',
      registers: [registry],
    }),
  };
}

export type RefunderMetrics = ReturnType<typeof createRefunderMetrics>;
