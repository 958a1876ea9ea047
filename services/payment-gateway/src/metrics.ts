import { Counter, Gauge, type DataSource, type Registry } from '@payments/platform';
import { countUnpublished, refundMetrics, settlementMetrics } from '@payments/core';

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
  new Gauge({
    name: 'outbox_unpublished',
    help: 'Outbox rows not yet confirmed by the broker',
    registers: [registry],
    async collect() {
      this.set(await countUnpublished(dataSource).catch(() => -1));
    },
  });
  const cashierStreamsOpen = new Gauge({
    name: 'cashier_streams_open',
    help: 'Live cashier streams (server-sent events) this gateway holds',
    registers: [registry],
  });
  const cashierStreamsRefused = new Counter({
    name: 'cashier_streams_refused_total',
    help: 'Cashier streams refused with 429 by the bound they hit (gateway, token)',
    labelNames: ['bound'],
    registers: [registry],
  });
  const cashierQueries = new Counter({
    name: 'cashier_order_queries_total',
    help: "Database queries the cashier's shared order reads sent (pages, polls and streams together)",
    registers: [registry],
  });
  return {
    applied,
    callbacks,
    cashierQueries,
    cashierStreamsOpen,
    cashierStreamsRefused,
    /** Refunds finished by their provider's notification. */
    refunds: refundMetrics(registry),
    /** Counts one settlement that changed something. */
    observeSettlement: settlementMetrics(registry),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
