import {
  Broker,
  consumerMetrics,
  createLogger,
  createRegistry,
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
  parseEvent,
  reconMetrics,
  reportUnservedChannels,
} from '@payments/core';
import { createProviders } from '@payments/providers';
import { AttemptRepository } from './adapters/attempt-repository';
import type { PollerDeps } from './deps';
import { onChannelOrderCreated } from './handlers/on-channel-order-created';
import { createPollerMetrics } from './metrics';
import { DailyReconciliation } from './reconciliation';
import { PollerSweeps } from './sweeps';

export interface Poller {
  deps: PollerDeps;
  sweeps: PollerSweeps;
  /** The daily reconciliation of every configured provider's statement (CONTRACT 11). */
  reconciliation: DailyReconciliation;
  start(): Promise<{ metricsPort: number }>;
  /** The port serving /metrics, /healthz and /readyz once started. */
  metricsPort(): number;
  stop(): Promise<void>;
}

export async function createPoller(
  config: Config,
  log: Logger = createLogger('poller', config.LOG_LEVEL),
): Promise<Poller> {
  const registry = createRegistry('poller');
  // First: a channel or provider setting that is wrong stops the start before any connection opens.
  const { providers, served: channels } = createProviders(config, registry, log);
  const dataSource = await openDataSource(config.DATABASE_URL);
  // Money waiting on a channel no provider here serves: named at start, its messages delayed (issue 27.3).
  await reportUnservedChannels(dataSource, [...channels.keys()], log);
  const broker = await Broker.connect(config.AMQP_URL, topologyFor(config), log);
  const attempts = new AttemptRepository(dataSource);
  const relay = new OutboxRelay(dataSource, broker, log);
  const deps: PollerDeps = {
    config,
    log,
    dataSource,
    attempts,
    channels,
    relay,
    metrics: createPollerMetrics(registry, attempts),
  };
  const sweeps = new PollerSweeps(deps, broker);
  const reconciliation = new DailyReconciliation({
    dataSource,
    providers,
    log,
    reconAt: config.RECON_AT,
    everyMs: Math.min(config.SWEEP_INTERVAL, 60_000),
    observe: reconMetrics(
      registry,
      dataSource,
      providers.map((provider) => provider.name),
    ),
  });
  const lifecycle = serviceLifecycle({
    name: 'poller',
    log,
    ops: {
      port: config.METRICS_PORT ?? 9102,
      host: config.OPS_HOST,
      registry,
      readiness: readinessOf({ broker, dataSource }),
    },
    subscriptions: [
      subscribe(
        broker,
        config,
        'pollerAttempts',
        {
          parse: (body) => parseEvent('channel_order.created', body),
          handle: (delivery) => onChannelOrderCreated(delivery, deps),
          onOutcome: consumerMetrics(registry),
          describe: (event) => ({ eventId: event.eventId, merchantOrderNo: event.data.merchantOrderNo }),
        },
        log,
      ),
    ],
    periodic: [sweeps, reconciliation],
    relay,
    broker,
    dataSource,
  });

  return {
    deps,
    sweeps,
    reconciliation,
    metricsPort: lifecycle.opsPort,
    start: async () => ({ metricsPort: await lifecycle.start() }),
    stop: lifecycle.stop,
  };
}
