import {
  Broker,
  Consumer,
  consumerMetrics,
  createLogger,
  createRegistry,
  openDataSource,
  OutboxRelay,
  parseEvent,
  readinessOf,
  reportUnservedChannels,
  startOpsServer,
  topologyFor,
  type Config,
  type Logger,
} from '@payments/common';
import { createChannels } from '@payments/providers';
import { AttemptRepository } from './adapters/attempt-repository';
import type { PollerDeps } from './deps';
import { onChannelOrderCreated } from './handlers/on-channel-order-created';
import { createPollerMetrics } from './metrics';
import { PollerSweeps } from './sweeps';

export interface Poller {
  deps: PollerDeps;
  sweeps: PollerSweeps;
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
  const channels = createChannels(config, registry, log);
  const onOutcome = consumerMetrics(registry);
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
  const consumer = new Consumer(
    broker,
    {
      queue: broker.topology.queue('pollerAttempts'),
      parse: (body) => parseEvent('channel_order.created', body),
      handle: (delivery) => onChannelOrderCreated(delivery, deps),
      retrySchedule: config.RETRY_SCHEDULE,
      onOutcome,
      prefetch: 64,
      describe: (event) => ({ eventId: event.eventId, merchantOrderNo: event.data.merchantOrderNo }),
    },
    log,
  );
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;

  return {
    deps,
    sweeps,
    metricsPort: () => ops?.port ?? 0,
    async start() {
      ops = await startOpsServer(
        config.METRICS_PORT ?? 9102,
        registry,
        readinessOf({ broker, dataSource }),
        config.OPS_HOST,
      );
      relay.start();
      sweeps.start();
      await consumer.start();
      log.info({ metricsPort: ops.port }, 'poller started');
      return { metricsPort: ops.port };
    },
    async stop() {
      await consumer.stop();
      await sweeps.stop();
      await relay.stop();
      await relay.drain();
      await ops?.app.close();
      await broker.close();
      await dataSource.destroy();
    },
  };
}
