import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Broker } from '../amqp/broker';
import { Topology } from '../amqp/topology';
import { quorumGroupSize, type Config } from '../config';
import { errorMessage } from '../errors';
import type { ReadinessCheck } from '../http/ops-server';
import type { Logger } from '../logging';

/** Every delay any service may use: all services declare the same tiers. */
export function allTierDurations(config: Config): number[] {
  return [
    ...new Set([
      ...config.POLL_SCHEDULE,
      ...config.NOTIFY_SCHEDULE,
      ...config.REFUND_POLL_SCHEDULE,
      ...config.RETRY_SCHEDULE,
    ]),
  ].sort((a, b) => a - b);
}

export function topologyFor(config: Config): Topology {
  return new Topology(config.TOPOLOGY_PREFIX, allTierDurations(config), quorumGroupSize(config));
}

/**
 * SIGTERM/SIGINT: run `stop` (stop consuming, drain, flush, close) and exit 0; exit 1 if it fails
 * or takes longer than `graceMs`.
 */
export function exitOnSignals(log: Logger, stop: () => Promise<void>, graceMs = 10_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      log.error('did not stop in time');
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: errorMessage(error) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** `/readyz` of a service: its broker connected, its database (and Redis, where it uses one) answering. */
export function readinessOf(dependencies: {
  broker: Broker;
  dataSource: DataSource;
  redis?: Redis;
}): ReadinessCheck {
  const answers = (check: Promise<unknown>) =>
    check.then(
      () => true,
      () => false,
    );
  return async () => ({
    broker: dependencies.broker.isConnected(),
    ...(dependencies.redis ? { redis: await answers(dependencies.redis.ping()) } : {}),
    database: await answers(dependencies.dataSource.query('SELECT 1')),
  });
}
