import { loadConfigOrExit, type Config } from '../config';
import type { DataSource } from 'typeorm';
import type { Broker } from '../amqp/broker';
import { errorMessage } from '../errors';
import { startOpsServer, type ReadinessCheck } from '../http/ops-server';
import { createLogger, type Logger } from '../logging';
import type { Registry } from '../metrics';
import { exitOnSignals } from './process';

/** Something started and stopped with a service: a consumer, a sweep, an HTTP server. */
export interface Startable {
  start(): Promise<unknown> | void;
  stop(): Promise<void>;
}

export interface ServiceParts {
  name: string;
  log: Logger;
  /** Where /metrics, /healthz and /readyz are served on their own port (not for the gateway: its HTTP server serves them). */
  ops?: { port: number; host?: string; registry: Registry; readiness: ReadinessCheck };
  /** What takes work in from outside besides the subscriptions (the gateway's HTTP server). */
  intake?: Startable;
  /** The consumers of its subscriptions (`subscribe`). */
  subscriptions: Startable[];
  /** Its periodic work (sweeps). */
  periodic: Startable[];
  /** Its outbox relay (`@payments/core`'s OutboxRelay): the platform knows only its lifecycle. */
  relay: { start(): void; stop(): Promise<void>; drain(): Promise<unknown> };
  broker: Broker;
  dataSource: DataSource;
  /** Closed after the broker, before the database (the order service's breaker, Redis). */
  alsoClose?: (() => void | Promise<void>)[];
}

export interface ServiceLifecycle {
  /** Ops server (or intake), relay, periodic work, then the subscriptions. Returns the ops port. */
  start(): Promise<number>;
  /**
   * Stop consuming (the subscriptions, which finish the messages in flight, then the intake), stop
   * the periodic work, flush the outbox relay, then close the ops server and the connections.
   */
  stop(): Promise<void>;
  /** The port serving /metrics, /healthz and /readyz once started (0 before). */
  opsPort(): number;
}

/** The one start and stop order of every service (DESIGN rule 7: a stop loses nothing). */
export function serviceLifecycle(parts: ServiceParts): ServiceLifecycle {
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  return {
    opsPort: () => ops?.port ?? 0,
    async start() {
      if (parts.ops)
        ops = await startOpsServer(parts.ops.port, parts.ops.registry, parts.ops.readiness, parts.ops.host);
      await parts.intake?.start();
      parts.relay.start();
      for (const periodic of parts.periodic) await periodic.start();
      for (const subscription of parts.subscriptions) await subscription.start();
      if (ops) parts.log.info({ metricsPort: ops.port }, `${parts.name} started`);
      return ops?.port ?? 0;
    },
    async stop() {
      await Promise.all(parts.subscriptions.map((subscription) => subscription.stop()));
      await parts.intake?.stop();
      for (const periodic of parts.periodic) await periodic.stop();
      await parts.relay.stop();
      await parts.relay.drain();
      await ops?.app.close();
      await parts.broker.close();
      for (const close of parts.alsoClose ?? []) await close();
      await parts.dataSource.destroy();
    },
  };
}

export interface RunServiceOptions {
  name: string;
  /** Builds the service on its configuration (its `create…` function). */
  build: (config: Config, log: Logger) => Promise<{ start(): Promise<unknown>; stop(): Promise<void> }>;
  /** Its configuration, parsed once (default: the shared one); an invalid one exits. */
  config?: () => Config;
  /** Its logger (default: the shared one). */
  createLogger?: (name: string, level: string) => Logger;
}

/**
 * A service's `main`: configuration, logger, build, stop on SIGTERM/SIGINT (in the lifecycle's
 * order, exit 0, or 1 past the grace), start. A failed start exits 1 with its reason.
 */
export function runService(options: RunServiceOptions): void {
  const main = async () => {
    const config = (options.config ?? loadConfigOrExit)();
    const log = (options.createLogger ?? createLogger)(options.name, config.LOG_LEVEL);
    log.info({ config }, 'configuration');
    const service = await options.build(config, log);
    exitOnSignals(log, () => service.stop());
    await service.start();
  };
  main().catch((error: unknown) => {
    process.stderr.write(`${options.name} failed to start: ${errorMessage(error)}\n`);
    process.exit(1);
  });
}
