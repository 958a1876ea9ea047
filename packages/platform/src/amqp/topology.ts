import { formatDuration } from '../config/durations';

/**
 * The whole broker topology as data (names without TOPOLOGY_PREFIX). Every service declares all
 * of it at start, so an event is never published before its subscriber's queue exists.
 */
export const EXCHANGES = {
  commands: { name: 'payments.commands', type: 'topic' },
  events: { name: 'payments.events', type: 'topic', alternate: 'payments.unrouted' },
  unrouted: { name: 'payments.unrouted', type: 'fanout' },
  delay: { name: 'payments.delay', type: 'topic' },
  retry: { name: 'payments.retry', type: 'topic' },
  deadLetter: { name: 'payments.dlx', type: 'direct' },
} as const;

export type ExchangeKey = keyof typeof EXCHANGES;

/** Work queues: quorum queues, each with its `.dlq`, bound to the routing keys it works on. */
export const WORK_QUEUES = {
  gatewayApply: {
    name: 'payments.gateway.apply',
    bindings: [{ exchange: 'commands', key: 'payment.apply' }],
  },
  pollerAttempts: {
    name: 'payments.poller.attempts',
    bindings: [{ exchange: 'events', key: 'channel_order.created' }],
  },
  notifierPaymentSucceeded: {
    name: 'payments.notifier.payment-succeeded',
    bindings: [{ exchange: 'events', key: 'payment.succeeded' }],
  },
  refunderExtraCharges: {
    name: 'payments.refunder.extra-charges',
    bindings: [
      { exchange: 'events', key: 'payment.duplicate_detected' },
      { exchange: 'events', key: 'payment.paid_after_close' },
    ],
  },
  refunderRefunds: {
    name: 'payments.refunder.refunds',
    bindings: [{ exchange: 'events', key: 'refund.requested' }],
  },
} as const satisfies Record<
  string,
  { name: string; bindings: readonly { exchange: ExchangeKey; key: string }[] }
>;

export type WorkQueueKey = keyof typeof WORK_QUEUES;

/** Bounded queue behind the events exchange's alternate exchange: events nobody subscribed to. */
export const UNROUTED_QUEUE = { name: 'payments.unrouted', maxLength: 100_000 };

/** Redeliveries (crashes, SIGTERM) a work queue allows before the broker dead-letters a message. */
/** The largest apply body, over HTTP and by message alike (CONTRACT 3). */
export const APPLY_BODY_LIMIT = 16 * 1024;

export const DELIVERY_LIMIT = 20;

export const DLQ_SUFFIX = '.dlq';

/**
 * Who consumes each work queue, and how (Rascal's subscriptions, as data beside the queues): the
 * prefetch, the retry policy for transient failures (a schedule of the configuration), a body
 * limit where one applies. The events a subscription accepts are its queue's binding keys.
 */
export const SUBSCRIPTIONS = {
  gatewayApply: {
    queue: 'gatewayApply',
    prefetch: 32,
    retry: 'RETRY_SCHEDULE',
    maxBodyBytes: APPLY_BODY_LIMIT,
  },
  pollerAttempts: { queue: 'pollerAttempts', prefetch: 64, retry: 'RETRY_SCHEDULE' },
  notifierPaymentSucceeded: { queue: 'notifierPaymentSucceeded', prefetch: 64, retry: 'RETRY_SCHEDULE' },
  refunderExtraCharges: { queue: 'refunderExtraCharges', prefetch: 16, retry: 'RETRY_SCHEDULE' },
  refunderRefunds: { queue: 'refunderRefunds', prefetch: 16, retry: 'RETRY_SCHEDULE' },
} as const satisfies Record<
  string,
  { queue: WorkQueueKey; prefetch: number; retry: 'RETRY_SCHEDULE'; maxBodyBytes?: number }
>;

export type SubscriptionKey = keyof typeof SUBSCRIPTIONS;

/** The message types a subscription accepts: the routing keys its queue is bound to. */
export function acceptedTypes(subscription: SubscriptionKey): readonly string[] {
  return WORK_QUEUES[SUBSCRIPTIONS[subscription].queue].bindings.map((binding) => binding.key);
}

export interface QueueDeclaration {
  name: string;
  arguments: Record<string, unknown>;
  bindings: { exchange: string; key: string }[];
}

export interface ExchangeDeclaration {
  name: string;
  type: string;
  arguments: Record<string, unknown>;
}

/** Names under one TOPOLOGY_PREFIX, and the declarations that make them. */
export class Topology {
  constructor(
    readonly prefix: string,
    /** Delay tiers in milliseconds; every service passes the same set (all configured schedules). */
    readonly tierDurations: readonly number[],
    /**
     * Members of every quorum queue (`x-quorum-initial-group-size`): every service passes the same
     * (`quorumGroupSize(config)`), since RabbitMQ refuses a redeclaration with another.
     */
    readonly quorumGroupSize = 1,
  ) {}

  named(base: string): string {
    return this.prefix ? `${this.prefix}.${base}` : base;
  }

  exchange(key: ExchangeKey): string {
    return this.named(EXCHANGES[key].name);
  }

  queue(key: WorkQueueKey): string {
    return this.named(WORK_QUEUES[key].name);
  }

  dlq(queueName: string): string {
    return `${queueName}${DLQ_SUFFIX}`;
  }

  tierName(delayMs: number): string {
    return formatDuration(delayMs);
  }

  tierQueue(delayMs: number): string {
    return this.named(`payments.delay.${this.tierName(delayMs)}`);
  }

  /** Routing key on the delay exchange that parks a message for `delayMs`, then returns it to `queueName`. */
  delayRoutingKey(delayMs: number, queueName: string): string {
    return `${this.tierName(delayMs)}.${queueName}`;
  }

  hasTier(delayMs: number): boolean {
    return this.tierDurations.includes(delayMs);
  }

  workQueueNames(): string[] {
    return Object.keys(WORK_QUEUES).map((key) => this.queue(key as WorkQueueKey));
  }

  dlqNames(): string[] {
    return this.workQueueNames().map((name) => this.dlq(name));
  }

  /** Accepts a queue name with or without the prefix (for operators). */
  resolveQueueName(name: string): string {
    return this.prefix && !name.startsWith(`${this.prefix}.`) ? this.named(name) : name;
  }

  exchanges(): ExchangeDeclaration[] {
    return Object.values(EXCHANGES).map((exchange) => ({
      name: this.named(exchange.name),
      type: exchange.type,
      arguments: 'alternate' in exchange ? { 'alternate-exchange': this.named(exchange.alternate) } : {},
    }));
  }

  queues(): QueueDeclaration[] {
    const declarations: QueueDeclaration[] = [];
    const quorum = { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': this.quorumGroupSize };
    for (const queue of Object.values(WORK_QUEUES)) {
      const name = this.named(queue.name);
      declarations.push({
        name,
        arguments: {
          ...quorum,
          'x-delivery-limit': DELIVERY_LIMIT,
          'x-dead-letter-exchange': this.exchange('deadLetter'),
          'x-dead-letter-routing-key': this.dlq(name),
        },
        bindings: [
          ...queue.bindings.map((binding) => ({
            exchange: this.exchange(binding.exchange),
            key: binding.key,
          })),
          // A message back from any delay tier: `<tier>.<queue>`.
          { exchange: this.exchange('retry'), key: `*.${name}` },
        ],
      });
      declarations.push({
        name: this.dlq(name),
        arguments: quorum,
        bindings: [{ exchange: this.exchange('deadLetter'), key: this.dlq(name) }],
      });
    }
    for (const delayMs of [...new Set(this.tierDurations)]) {
      declarations.push({
        name: this.tierQueue(delayMs),
        // A quorum tier too: a node lost while a message waits here loses nothing. It dead-letters
        // at least once (the retry exchange confirms the copy before the tier drops it), which
        // needs `reject-publish` overflow.
        arguments: {
          ...quorum,
          'x-message-ttl': delayMs,
          'x-dead-letter-exchange': this.exchange('retry'),
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        },
        bindings: [{ exchange: this.exchange('delay'), key: `${this.tierName(delayMs)}.#` }],
      });
    }
    declarations.push({
      name: this.named(UNROUTED_QUEUE.name),
      // Quorum as well: a classic queue lives on one node, and while that node is down every
      // service's declaration of it fails.
      arguments: { ...quorum, 'x-max-length': UNROUTED_QUEUE.maxLength, 'x-overflow': 'drop-head' },
      bindings: [{ exchange: this.exchange('unrouted'), key: '' }],
    });
    return declarations;
  }
}
