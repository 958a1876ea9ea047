import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { parseStrictJson } from '../json/strict-json';
import { errorMessage, InvalidMessageError, PermanentError } from '../errors';
import { messageLogger, type Logger } from '../logging';
import type { Broker } from './broker';
import { cleanHeaders, HEADERS, numberHeader } from './headers';

export interface Delivery<T> {
  body: T;
  message: ConsumeMessage;
  /** How many times this message already came back after a transient failure. */
  retryCount: number;
  log: Logger;
}

/** A handler may ask for the message (or a successor) to come back later: the poller's next query. */
export type HandlerResult = void | {
  reschedule: { delayMs: number; body?: unknown; headers?: Record<string, unknown> };
};

export interface ConsumerOptions<T> {
  /** Full queue name (with prefix). */
  queue: string;
  /** Validates the JSON body; a throw dead-letters the message at once. */
  parse: (body: unknown) => T;
  handle: (delivery: Delivery<T>) => Promise<HandlerResult>;
  /** Delays for transient failures; when spent, the message is dead-lettered. */
  retrySchedule: readonly number[];
  prefetch?: number;
  /**
   * Bodies longer than this are refused before they are parsed (dead-lettered as invalid), and a
   * dead-lettered copy keeps only this many bytes of the body.
   */
  maxBodyBytes?: number;
  /** Identifiers for the log line and the dead-letter headers. */
  describe?: (body: T) => { eventId?: string; merchantOrderNo?: string };
  /** Told the outcome of every message (for `messages_handled_total` and `dlq_messages_total`). */
  onOutcome?: (queue: string, outcome: Outcome) => void;
  /**
   * Told of every message once it is in the dlq, whatever sent it there (unreadable JSON, a
   * handler's refusal, retries spent): e.g. to answer a waiting requester. Failures are logged.
   */
  onDeadLettered?: (message: ConsumeMessage, info: DeadLetterInfo) => Promise<void>;
}

export type Outcome = 'ack' | 'reschedule' | 'retry' | 'dead-letter' | 'requeue';

/**
 * The one place that decides what happens to a message: a handler only returns or throws.
 * Returns → ack. `InvalidMessageError`/`PermanentError` → dead-letter now with readable headers.
 * Anything else → delayed retry through a delay tier, then dead-letter when the schedule is spent.
 * The copy is always published (and confirmed) before the original is acked.
 */
export class Consumer<T> {
  private readonly channel: ChannelWrapper;
  private current: Channel | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    private readonly broker: Broker,
    private readonly options: ConsumerOptions<T>,
    private readonly log: Logger,
  ) {
    this.channel = broker.connection.createChannel({
      name: `consumer:${options.queue}`,
      confirm: false,
      setup: async (channel: Channel) => {
        this.current = channel;
      },
    });
    // A re-consume refused while the cluster moves the queue: the wrapper consumes again when
    // its channel comes back. Told here rather than ending the process.
    this.channel.on('error', (error: Error) =>
      log.warn({ err: error.message, queue: options.queue }, 'consumer channel error'),
    );
  }

  async start(): Promise<void> {
    await this.channel.waitForConnect();
    await this.channel.consume(
      this.options.queue,
      (message) => {
        if (this.stopping) return; // unacked: the broker gives it to another consumer when we close
        const receivedOn = this.current;
        const work = this.process(message, receivedOn).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
      },
      { prefetch: this.options.prefetch ?? 10, noAck: false },
    );
  }

  /** Stops taking messages, lets in-flight ones finish, and closes the channel. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.channel.cancelAll().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.channel.close().catch(() => undefined);
  }

  private async process(message: ConsumeMessage, receivedOn: Channel | undefined): Promise<void> {
    const started = Date.now();
    const retryCount = numberHeader(message.properties.headers, HEADERS.retryCount);
    let log = messageLogger(this.log, {
      messageId: message.properties.messageId as string | undefined,
      correlationId: message.properties.correlationId as string | undefined,
    });
    let ids: { eventId?: string; merchantOrderNo?: string } = {};
    let outcome: Outcome;
    let detail: Record<string, unknown> = {};
    try {
      let body: T;
      const { maxBodyBytes } = this.options;
      if (maxBodyBytes !== undefined && message.content.length > maxBodyBytes)
        throw new InvalidMessageError(
          `body: ${message.content.length} bytes, larger than the limit of ${maxBodyBytes}`,
        );
      try {
        body = this.options.parse(parseStrictJson(message.content.toString('utf8')));
      } catch (error) {
        throw new InvalidMessageError(`invalid message: ${errorMessage(error)}`, { cause: error });
      }
      ids = this.options.describe?.(body) ?? {};
      log = messageLogger(log, ids);
      const result = await this.options.handle({ body, message, retryCount, log });
      if (result?.reschedule) {
        const { delayMs, body: nextBody, headers } = result.reschedule;
        await this.broker.publishDelayed(this.options.queue, delayMs, nextBody ?? body, {
          ...this.republishProps(message),
          headers: { ...originHeaders(message), ...headers, [HEADERS.retryCount]: 0 },
        });
        outcome = 'reschedule';
        detail = { delayMs };
      } else {
        outcome = 'ack';
      }
    } catch (error) {
      try {
        ({ outcome, detail } = await this.onFailure(message, error, retryCount, ids));
      } catch (publishError) {
        // Could not park the message anywhere: give it back to the broker rather than lose it.
        log.error(
          { err: errorMessage(publishError), cause: errorMessage(error) },
          'could not retry or dead-letter',
        );
        this.settle(receivedOn, message, 'requeue');
        this.options.onOutcome?.(this.options.queue, 'requeue');
        return;
      }
      log.warn({ outcome, ...detail, err: errorMessage(error), ms: Date.now() - started }, 'message handled');
      this.settle(receivedOn, message, 'ack');
      this.options.onOutcome?.(this.options.queue, outcome);
      return;
    }
    this.settle(receivedOn, message, 'ack');
    this.options.onOutcome?.(this.options.queue, outcome);
    log.info({ outcome, ...detail, ms: Date.now() - started }, 'message handled');
  }

  private async onFailure(
    message: ConsumeMessage,
    error: unknown,
    retryCount: number,
    ids: { eventId?: string; merchantOrderNo?: string },
  ): Promise<{ outcome: Outcome; detail: Record<string, unknown> }> {
    const permanent = error instanceof InvalidMessageError || error instanceof PermanentError;
    const schedule = this.options.retrySchedule;
    if (!permanent && retryCount < schedule.length) {
      const delayMs = schedule[retryCount]!;
      await this.broker.publishDelayed(this.options.queue, delayMs, message.content, {
        ...this.republishProps(message),
        headers: { ...originHeaders(message), [HEADERS.retryCount]: retryCount + 1 },
      });
      return { outcome: 'retry', detail: { delayMs, retryCount: retryCount + 1 } };
    }
    const reason =
      error instanceof InvalidMessageError ? 'invalid' : permanent ? 'permanent' : 'retries-exhausted';
    const info: DeadLetterInfo = { reason, lastError: errorMessage(error), attempts: retryCount + 1, ...ids };
    await deadLetter(this.broker, this.options.queue, message, info, this.options.maxBodyBytes);
    await this.options
      .onDeadLettered?.(message, info)
      .catch((hookError: unknown) =>
        this.log.warn({ err: errorMessage(hookError) }, 'dead-letter hook failed'),
      );
    return { outcome: 'dead-letter', detail: { reason } };
  }

  private republishProps(message: ConsumeMessage) {
    return {
      messageId: message.properties.messageId as string | undefined,
      type: message.properties.type as string | undefined,
      correlationId: message.properties.correlationId as string | undefined,
    };
  }

  private settle(receivedOn: Channel | undefined, message: ConsumeMessage, how: 'ack' | 'requeue'): void {
    // A delivery tag belongs to the channel it came on; after a reconnect the broker redelivers anyway.
    if (!receivedOn || receivedOn !== this.current) return;
    try {
      if (how === 'ack') receivedOn.ack(message);
      else receivedOn.nack(message, false, true);
    } catch (error) {
      this.log.warn(
        { err: errorMessage(error) },
        'could not settle a delivery; the broker will redeliver it',
      );
    }
  }
}

export interface DeadLetterInfo {
  reason: string;
  lastError: string;
  attempts: number;
  eventId?: string;
  merchantOrderNo?: string;
}

/** Publishes a message to `<queue>.dlq` with headers a person can read in the management UI. */
export async function deadLetter(
  broker: Broker,
  queue: string,
  message: ConsumeMessage,
  info: DeadLetterInfo,
  maxBodyBytes = Number.POSITIVE_INFINITY,
): Promise<void> {
  const truncated = message.content.length > maxBodyBytes;
  const headers: Record<string, unknown> = {
    ...originHeaders(message),
    [HEADERS.reason]: info.reason,
    [HEADERS.lastError]: info.lastError.slice(0, 1000),
    [HEADERS.originalQueue]: queue,
    [HEADERS.attempts]: info.attempts,
    [HEADERS.deadLetteredAt]: new Date().toISOString(),
  };
  if (info.eventId) headers[HEADERS.eventId] = info.eventId;
  if (info.merchantOrderNo) headers[HEADERS.merchantOrderNo] = info.merchantOrderNo;
  // An oversized body is kept as a bounded copy: enough to see what it was, not a second giant.
  if (truncated) headers[HEADERS.originalBytes] = message.content.length;
  const content = truncated ? message.content.subarray(0, maxBodyBytes) : message.content;
  await broker.sendToQueue(broker.topology.dlq(queue), content, {
    messageId: message.properties.messageId as string | undefined,
    type: message.properties.type as string | undefined,
    correlationId: message.properties.correlationId as string | undefined,
    headers,
  });
}

/** The message's headers, cleaned, remembering where it first came from (a retry arrives from a delay tier). */
function originHeaders(message: ConsumeMessage): Record<string, unknown> {
  const headers = cleanHeaders(message.properties.headers);
  headers[HEADERS.originalExchange] ??= message.fields.exchange;
  headers[HEADERS.originalRoutingKey] ??= message.fields.routingKey;
  return headers;
}
