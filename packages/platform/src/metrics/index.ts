import CircuitBreaker from 'opossum';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config';
import type { Outcome } from '../amqp/consumer';
import type { Logger } from '../logging';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per process, with the process defaults (memory, CPU, event loop). */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface BreakerOptions {
  name: string;
  config: Pick<Config, 'BREAKER_TIMEOUT' | 'BREAKER_RESET' | 'BREAKER_ERROR_PERCENT' | 'BREAKER_VOLUME'>;
  registry: Registry;
  log: Logger;
  /** Errors that are the caller's fault, not the dependency's: they do not count against the breaker. */
  isCallerError?: (error: unknown) => boolean;
}

const breakerMetrics = new WeakMap<Registry, { state: Gauge; events: Counter }>();

function metricsFor(registry: Registry) {
  let metrics = breakerMetrics.get(registry);
  if (!metrics) {
    metrics = {
      state: new Gauge({
        name: 'circuit_breaker_state',
        help: 'Breaker state: 0 closed, 1 half-open, 2 open',
        labelNames: ['circuit'],
        registers: [registry],
      }),
      events: new Counter({
        name: 'circuit_breaker_events_total',
        help: 'Breaker events (success, failure, timeout, reject, open, halfOpen, close)',
        labelNames: ['circuit', 'event'],
        registers: [registry],
      }),
    };
    breakerMetrics.set(registry, metrics);
  }
  return metrics;
}

/** An opossum breaker around a call to something we do not own (a provider, the order service). */
export function createBreaker<A extends unknown[], R>(
  call: (...args: A) => Promise<R>,
  options: BreakerOptions,
): CircuitBreaker<A, R> {
  const breaker = new CircuitBreaker(call, {
    name: options.name,
    timeout: options.config.BREAKER_TIMEOUT,
    resetTimeout: options.config.BREAKER_RESET,
    errorThresholdPercentage: options.config.BREAKER_ERROR_PERCENT,
    volumeThreshold: options.config.BREAKER_VOLUME,
    errorFilter: options.isCallerError,
  });
  const { state, events } = metricsFor(options.registry);
  state.set({ circuit: options.name }, 0);
  for (const event of ['success', 'failure', 'timeout', 'reject'] as const) {
    (breaker as unknown as NodeJS.EventEmitter).on(event, () => events.inc({ circuit: options.name, event }));
  }
  const transitions = { open: 2, halfOpen: 1, close: 0 } as const;
  for (const [event, value] of Object.entries(transitions) as [keyof typeof transitions, number][]) {
    (breaker as unknown as NodeJS.EventEmitter).on(event, () => {
      events.inc({ circuit: options.name, event });
      state.set({ circuit: options.name }, value);
      options.log.warn({ circuit: options.name, state: event }, 'circuit breaker changed state');
    });
  }
  return breaker;
}

/** `messages_handled_total{queue,outcome}` and `dlq_messages_total{queue}`, fed by every consumer. */
export function consumerMetrics(registry: Registry): (queue: string, outcome: Outcome) => void {
  const handled = new Counter({
    name: 'messages_handled_total',
    help: 'Messages handled, by queue and outcome (ack, reschedule, retry, dead-letter, requeue)',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'dlq_messages_total',
    help: 'Messages sent to a dlq, by the queue they came from',
    labelNames: ['queue'],
    registers: [registry],
  });
  return (queue, outcome) => {
    handled.inc({ queue, outcome });
    if (outcome === 'dead-letter') deadLettered.inc({ queue });
  };
}
