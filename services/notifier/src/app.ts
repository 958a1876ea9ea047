import {
  Broker,
  consumerMetrics,
  createBreaker,
  createLogger,
  createRegistry,
  readinessOf,
  serviceLifecycle,
  subscribe,
  topologyFor,
  type Config,
  type Logger,
} from '@payments/platform';
import { openDataSource, OutboxRelay, parseEvent } from '@payments/core';
import { NotificationLogRepository } from './adapters/notification-log';
import { orderServiceClient } from './adapters/order-service-client';
import type { NotifierDeps } from './deps';
import { onPaymentSucceeded } from './handlers/on-payment-succeeded';
import { createNotifierMetrics } from './metrics';
import { NotifierSweeps } from './sweeps';

export interface Notifier {
  deps: NotifierDeps;
  sweeps: NotifierSweeps;
  metricsPort(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createNotifier(
  config: Config,
  log: Logger = createLogger('notifier', config.LOG_LEVEL),
): Promise<Notifier> {
  const registry = createRegistry('notifier');
  const dataSource = await openDataSource(config.DATABASE_URL);
  const broker = await Broker.connect(config.AMQP_URL, topologyFor(config), log);
  const relay = new OutboxRelay(dataSource, broker, log);
  const orderService = createBreaker(
    orderServiceClient(config.ORDER_SERVICE_URL, config.ORDER_SERVICE_SECRET, config.BREAKER_TIMEOUT),
    {
      name: 'order_service',
      config,
      registry,
      log,
    },
  );
  const deps: NotifierDeps = {
    config,
    log,
    notifications: new NotificationLogRepository(dataSource),
    orderService,
    relay,
    eventsExchange: broker.topology.exchange('events'),
    metrics: createNotifierMetrics(registry),
  };
  const consumer = subscribe(
    broker,
    config,
    'notifierPaymentSucceeded',
    {
      parse: (body) => parseEvent('payment.succeeded', body),
      handle: (delivery) => onPaymentSucceeded(delivery, deps),
      onOutcome: consumerMetrics(registry),
      describe: (event) => ({ eventId: event.eventId, merchantOrderNo: event.data.merchantOrderNo }),
      // Retries spent on our own dependencies (the database down for long): the log says FAILED
      // and `order.notify_failed` goes out too, as when the schedule is spent on the order
      // service. Best effort: with the database still down the dead letter alone tells.
      onDeadLettered: async (message, info) => {
        if (info.reason !== 'retries-exhausted') return;
        const event = parseEvent('payment.succeeded', JSON.parse(message.content.toString('utf8')));
        await deps.notifications.markFailed(event, `retries spent: ${info.lastError}`);
        deps.metrics.notifications.inc({ result: 'failed' });
        relay.kick();
      },
    },
    log,
  );
  const sweeps = new NotifierSweeps(deps, dataSource, broker);
  const lifecycle = serviceLifecycle({
    name: 'notifier',
    log,
    ops: {
      port: config.METRICS_PORT ?? 9103,
      host: config.OPS_HOST,
      registry,
      readiness: readinessOf({ broker, dataSource }),
    },
    subscriptions: [consumer],
    periodic: [sweeps],
    relay,
    broker,
    dataSource,
    alsoClose: [() => orderService.shutdown()],
  });

  return {
    deps,
    sweeps,
    metricsPort: lifecycle.opsPort,
    async start() {
      await lifecycle.start();
      const scheduleMs = config.NOTIFY_SCHEDULE.reduce((sum, ms) => sum + ms, 0);
      if (scheduleMs <= config.BREAKER_RESET)
        log.warn(
          { notifyScheduleMs: scheduleMs, breakerResetMs: config.BREAKER_RESET },
          "NOTIFY_SCHEDULE is shorter than BREAKER_RESET: one open breaker can spend a payment's whole schedule and send it to the dlq",
        );
    },
    stop: lifecycle.stop,
  };
}
