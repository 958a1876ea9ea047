import { Counter, refundMetrics, type Registry } from '@payments/common';

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
