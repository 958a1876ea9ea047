import {
  countUnpublished,
  Counter,
  Gauge,
  type DataSource,
  type Registry,
  type SettleResult,
} from '@payments/common';

export function createGatewayMetrics(registry: Registry, dataSource: DataSource) {
  const applied = new Counter({
    name: 'payments_applied_total',
    help: 'Payment applications by result',
    labelNames: ['result'],
    registers: [registry],
  });
  const callbacks = new Counter({
    name: 'callbacks_total',
    help: 'Provider callbacks by channel and result',
    labelNames: ['channel', 'result'],
    registers: [registry],
  });
  const settled = new Counter({
    name: 'payments_settled_total',
    help: 'Attempt settlements by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'duplicate_payments_detected_total',
    help: 'Extra charges found (duplicate, paid_after_close)',
    labelNames: ['kind'],
    registers: [registry],
  });
  new Gauge({
    name: 'outbox_unpublished',
    help: 'Outbox rows not yet confirmed by the broker',
    registers: [registry],
    async collect() {
      this.set(await countUnpublished(dataSource).catch(() => -1));
    },
  });
  return {
    applied,
    callbacks,
    /** Counts one settlement that changed something. */
    observeSettlement(result: SettleResult | undefined): void {
      const kind = result?.settlement.kind;
      if (!kind || kind === 'NO_CHANGE') return;
      settled.inc({ outcome: kind });
      if (kind === 'DUPLICATE') duplicates.inc({ kind: 'duplicate' });
      if (kind === 'PAID_AFTER_CLOSE') duplicates.inc({ kind: 'paid_after_close' });
    },
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
