import type { FastifyInstance } from 'fastify';
import {
  Broker,
  consumerMetrics,
  createLogger,
  createRedis,
  redisTarget,
  createRegistry,
  readinessOf,
  RedisLock,
  redisReady,
  serviceLifecycle,
  subscribe,
  topologyFor,
  type Config,
  type DataSource,
  type Logger,
} from '@payments/platform';
import { reportUnservedChannels, openDataSource, OutboxRelay } from '@payments/core';
import { createProviders } from '@payments/providers';
import type Redis from 'ioredis';
import { PaymentRepository } from './adapters/payment-repository';
import type { GatewayDeps } from './deps';
import { FinalStatusCache } from './adapters/final-status-cache';
import { answerDeadLetteredApply, onApplyCommand } from './handlers/on-apply-command';
import { buildHttpServer } from './http/server';
import { createGatewayMetrics } from './metrics';

export interface Gateway {
  http: FastifyInstance;
  deps: GatewayDeps;
  broker: Broker;
  /** Listens on `port` (default GATEWAY_PORT) and starts the apply consumer and the outbox relay. */
  start(port?: number): Promise<number>;
  /** Stops consuming, drains in-flight work, flushes the outbox, closes connections. */
  stop(): Promise<void>;
}

/** Builds the payment gateway on real connections: MySQL, Redis, RabbitMQ. */
export async function createGateway(
  config: Config,
  log: Logger = createLogger('payment-gateway', config.LOG_LEVEL),
): Promise<Gateway> {
  const registry = createRegistry('payment-gateway');
  // First: a channel or provider setting that is wrong stops the start before any connection opens.
  const { providers, channels, served } = createProviders(config, registry, log);
  const dataSource: DataSource = await openDataSource(config.DATABASE_URL);
  // Money waiting on a channel no provider here serves: named at start (issue 27.3).
  await reportUnservedChannels(dataSource, [...served.keys()], log);
  const redis: Redis = createRedis(redisTarget(config));
  // Each new kind of Redis error once (a retry loop repeats the same one every attempt).
  let lastRedisError: string | undefined;
  redis.on('error', (error) => {
    if (error.message !== lastRedisError) log.warn({ err: error.message }, 'redis error');
    lastRedisError = error.message;
  });
  // Where the lock lives now: with Sentinels, the primary they named (it moves on a failover).
  redis.on('ready', () => {
    lastRedisError = undefined;
    log.info({ node: `${redis.stream?.remoteAddress}:${redis.stream?.remotePort}` }, 'redis ready');
  });
  await redisReady(redis).catch(() =>
    log.warn('redis not reachable at start; applies answer 503 until it is'),
  );
  const broker = await Broker.connect(config.AMQP_URL, topologyFor(config), log);
  const relay = new OutboxRelay(dataSource, broker, log);
  const deps: GatewayDeps = {
    config,
    log,
    dataSource,
    repository: new PaymentRepository(dataSource),
    lock: new RedisLock(redis, config.TOPOLOGY_PREFIX),
    finalStatus: new FinalStatusCache(redis, config.TOPOLOGY_PREFIX),
    channels,
    servedChannels: served,
    notifyRoutes: new Map(
      providers.flatMap((provider) => provider.notifyRoutes.map((route) => [route, provider])),
    ),
    relay,
    metrics: createGatewayMetrics(registry, dataSource),
  };
  const http = buildHttpServer(deps, registry, readinessOf({ broker, dataSource, redis }));
  let listenPort = config.GATEWAY_PORT;
  const lifecycle = serviceLifecycle({
    name: 'payment gateway',
    log,
    // Its HTTP server takes applies and callbacks, and serves /metrics, /healthz and /readyz.
    intake: { start: () => http.listen({ port: listenPort, host: '0.0.0.0' }), stop: () => http.close() },
    subscriptions: [
      subscribe(
        broker,
        config,
        'gatewayApply',
        {
          parse: (body) => body,
          handle: async (delivery) => onApplyCommand(delivery, deps, broker),
          onDeadLettered: (message, info) => answerDeadLetteredApply(broker, message, info),
          onOutcome: consumerMetrics(registry),
          describe: (body) => ({
            merchantOrderNo: (body as { merchantOrderNo?: string } | undefined)?.merchantOrderNo,
          }),
        },
        log,
      ),
    ],
    periodic: [],
    relay,
    broker,
    dataSource,
    alsoClose: [() => redis.disconnect()],
  });

  return {
    http,
    deps,
    broker,
    async start(port = config.GATEWAY_PORT) {
      listenPort = port;
      await lifecycle.start();
      const address = http.server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      log.info({ port: bound }, 'payment gateway listening');
      return bound;
    },
    stop: lifecycle.stop,
  };
}
