import {
  acceptedTypes,
  Broker,
  consumerMetrics,
  createLogger,
  createRegistry,
  InvalidMessageError,
  readinessOf,
  serviceLifecycle,
  subscribe,
  topologyFor,
  type Config,
  type Logger,
} from '@payments/platform';
import {
  openDataSource,
  OutboxRelay,
  parseAnyEvent,
  parseEvent,
  reportUnservedChannels,
} from '@payments/core';
import { createChannels } from '@payments/providers';
import { RefundRepository } from './adapters/refund-repository';
import type { RefunderDeps } from './deps';
import { onExtraCharge, type ExtraChargeEvent } from './handlers/on-extra-charge';
import { onRefundRequested } from './handlers/on-refund-requested';
import { createRefunderMetrics } from './metrics';
import { RefunderSweeps } from './sweeps';

export interface Refunder {
  deps: RefunderDeps;
  sweeps: RefunderSweeps;
  metricsPort(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function parseExtraCharge(body: unknown): ExtraChargeEvent {
  const event = parseAnyEvent(body);
  if (!acceptedTypes('refunderExtraCharges').includes(event.type)) {
    throw new InvalidMessageError(`the refunder does not handle ${event.type}`);
  }
  return event as ExtraChargeEvent;
}

export async function createRefunder(
  config: Config,
  log: Logger = createLogger('refunder', config.LOG_LEVEL),
): Promise<Refunder> {
  const registry = createRegistry('refunder');
  // First: a channel or provider setting that is wrong stops the start before any connection opens.
  const channels = createChannels(config, registry, log);
  const onOutcome = consumerMetrics(registry);
  const dataSource = await openDataSource(config.DATABASE_URL);
  // Money waiting on a channel no provider here serves: named at start, its messages delayed (issue 27.3).
  await reportUnservedChannels(dataSource, [...channels.keys()], log);
  const broker = await Broker.connect(config.AMQP_URL, topologyFor(config), log);
  const relay = new OutboxRelay(dataSource, broker, log);
  const deps: RefunderDeps = {
    config,
    log,
    refunds: new RefundRepository(dataSource),
    channels,
    relay,
    metrics: createRefunderMetrics(registry),
  };
  const sweeps = new RefunderSweeps(deps, broker);
  const describe = (event: { eventId: string; data: { merchantOrderNo: string } }) => ({
    eventId: event.eventId,
    merchantOrderNo: event.data.merchantOrderNo,
  });
  const lifecycle = serviceLifecycle({
    name: 'refunder',
    log,
    ops: {
      port: config.METRICS_PORT ?? 9104,
      host: config.OPS_HOST,
      registry,
      readiness: readinessOf({ broker, dataSource }),
    },
    subscriptions: [
      subscribe(
        broker,
        config,
        'refunderExtraCharges',
        { parse: parseExtraCharge, handle: (delivery) => onExtraCharge(delivery, deps), onOutcome, describe },
        log,
      ),
      subscribe(
        broker,
        config,
        'refunderRefunds',
        {
          parse: (body) => parseEvent('refund.requested', body),
          handle: (delivery) => onRefundRequested(delivery, deps),
          onOutcome,
          describe,
        },
        log,
      ),
    ],
    periodic: [sweeps],
    relay,
    broker,
    dataSource,
  });

  return {
    deps,
    sweeps,
    metricsPort: lifecycle.opsPort,
    start: async () => void (await lifecycle.start()),
    stop: lifecycle.stop,
  };
}
