import { randomUUID } from 'node:crypto';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import amqplib, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Options,
} from 'amqplib';
import { amqpNodes } from '../config';
import type { Logger } from '../logging';
import { UnroutableError } from '../errors';
import { cleanHeaders, HEADERS } from './headers';
import { Topology } from './topology';

export interface PublishProps {
  messageId?: string;
  type?: string;
  correlationId?: string;
  replyTo?: string;
  headers?: Record<string, unknown>;
  /** An unroutable publish rejects with `UnroutableError` (default true). */
  mandatory?: boolean;
  /** Milliseconds to wait for the broker (connection and confirm) before failing. */
  timeoutMs?: number;
}

const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

/**
 * A queue not declared as the topology says: held by the broker with other arguments (`drift`,
 * RabbitMQ's 406 says which), or out of reach because the one node it lives on is down
 * (`unavailable`, 404: a classic queue declared before CONTRACT 12).
 */
export interface QueueDrift {
  queue: string;
  kind: 'drift' | 'unavailable';
  reason: string;
}

/**
 * Declares every exchange, queue and binding of the topology; safe to run again. A queue that
 * exists with other arguments (a classic delay tier from before CONTRACT 12, another quorum group
 * size) is not redeclared: the broker refuses that, and the queue keeps working as it is. It is
 * returned as drift, for `npm run queues -- migrate` (drain, delete, declare anew) to mend. A
 * queue whose node is down is returned too, and skipped (its bindings with it) until the next
 * connection. A refused declaration closes its channel, so this works on channels of its own.
 */
export async function declareTopology(connection: ChannelModel, topology: Topology): Promise<QueueDrift[]> {
  const drift: QueueDrift[] = [];
  let channel = await openQuietChannel(connection);
  try {
    for (const exchange of topology.exchanges()) {
      await channel.assertExchange(exchange.name, exchange.type, {
        durable: true,
        arguments: exchange.arguments,
      });
    }
    for (const queue of topology.queues()) {
      try {
        await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
      } catch (error) {
        // 406: declared otherwise. 404: the one node it lives on is down (a classic queue).
        const code = (error as { code?: number }).code;
        if (code !== PRECONDITION_FAILED && code !== NOT_FOUND) throw error;
        drift.push({
          queue: queue.name,
          kind: code === PRECONDITION_FAILED ? 'drift' : 'unavailable',
          reason: (error as Error).message.replace(/^.*(PRECONDITION_FAILED|NOT_FOUND) - /, ''),
        });
        channel = await openQuietChannel(connection);
        if (code === NOT_FOUND) continue;
      }
      for (const binding of queue.bindings)
        await channel.bindQueue(queue.name, binding.exchange, binding.key);
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
  return drift;
}

const PRECONDITION_FAILED = 406;
const NOT_FOUND = 404;

async function openQuietChannel(connection: ChannelModel): Promise<Channel> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined); // a refusal closes it; the caller sees the rejection
  return channel;
}

/** A plain connection to the first node of `AMQP_URL` that answers (operator tools, tests). */
export async function connectToAnyNode(amqpUrl: string): Promise<ChannelModel> {
  let lastError: unknown;
  for (const node of amqpNodes(amqpUrl)) {
    try {
      return await amqplib.connect(node);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * One connection (reconnecting) with a confirm channel for publishing. Publishes resolve only
 * when the broker confirms them, and a mandatory publish that no queue took rejects.
 */
export class Broker {
  readonly connection: AmqpConnectionManager;
  readonly publisher: ChannelWrapper;
  /** Queues found declared otherwise at the last (re)connection; logged, and mended by `npm run queues`. */
  drift: QueueDrift[] = [];
  private readonly returned = new Set<string>();

  private constructor(
    url: string,
    readonly topology: Topology,
    private readonly log: Logger,
  ) {
    // Every node of the cluster: the manager connects to one and moves to the next when it goes.
    this.connection = amqp.connect(amqpNodes(url), {
      heartbeatIntervalInSeconds: 10,
      reconnectTimeInSeconds: 1,
    });
    this.connection.on('disconnect', ({ err }) =>
      this.log.warn({ err: err?.message }, 'broker disconnected'),
    );
    this.connection.on('connectFailed', ({ err }) =>
      this.log.warn({ err: err?.message }, 'broker node did not answer; trying the next'),
    );
    this.connection.on('connect', ({ url: node }) =>
      this.log.info({ node: typeof node === 'string' ? new URL(node).host : undefined }, 'broker connected'),
    );
    this.publisher = this.connection.createChannel({
      name: 'publisher',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        channel.on('return', (message: ConsumeMessage) => {
          const publishId = message.properties.headers?.[HEADERS.publishId];
          if (typeof publishId === 'string') this.returned.add(publishId);
        });
        const connection = this.connection.connection;
        if (!connection) throw new Error('broker connection lost while declaring the topology');
        this.drift = await declareTopology(connection, topology);
        for (const { queue, kind, reason } of this.drift)
          this.log.warn(
            { queue, reason },
            kind === 'drift'
              ? 'queue declared otherwise on the broker; run `npm run queues -- migrate`'
              : 'queue out of reach (its node is down); not declared on this connection',
          );
      },
    });
    // A setup that failed (its connection lost midway) is retried on the next connection; without
    // a listener the error would end the process.
    this.publisher.on('error', (error: Error) =>
      this.log.warn({ err: error.message }, 'publisher channel setup failed'),
    );
  }

  /** Connects and declares the topology; rejects if the broker cannot be reached in time. */
  static async connect(url: string, topology: Topology, log: Logger, timeoutMs = 15_000): Promise<Broker> {
    const broker = new Broker(url, topology, log);
    await withTimeout(broker.publisher.waitForConnect(), timeoutMs, 'broker connection timed out').catch(
      async (error: unknown) => {
        await broker.close();
        throw error;
      },
    );
    return broker;
  }

  isConnected(): boolean {
    return this.connection.isConnected();
  }

  async publish(
    exchange: string,
    routingKey: string,
    body: unknown,
    props: PublishProps = {},
  ): Promise<void> {
    const publishId = randomUUID();
    const mandatory = props.mandatory ?? true;
    const options: Options.Publish & { timeout?: number } = {
      persistent: true,
      contentType: 'application/json',
      messageId: props.messageId,
      type: props.type,
      correlationId: props.correlationId,
      replyTo: props.replyTo,
      timestamp: Math.floor(Date.now() / 1000),
      mandatory,
      headers: { ...cleanHeaders(props.headers), ...(mandatory ? { [HEADERS.publishId]: publishId } : {}) },
      timeout: props.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
    };
    const content = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    await this.publisher.publish(exchange, routingKey, content, options);
    // The broker sends basic.return before the confirm of the same publish.
    if (this.returned.delete(publishId)) throw new UnroutableError(exchange, routingKey);
  }

  /** Straight to a queue through the default exchange. */
  async sendToQueue(queueName: string, body: unknown, props: PublishProps = {}): Promise<void> {
    await this.publish('', queueName, body, props);
  }

  /** Parks a message in the delay tier for `delayMs`; it then comes back to `queueName`. */
  async publishDelayed(
    queueName: string,
    delayMs: number,
    body: unknown,
    props: PublishProps = {},
  ): Promise<void> {
    if (!this.topology.hasTier(delayMs)) {
      throw new Error(`no delay tier of ${delayMs}ms is declared (tiers come from the configured schedules)`);
    }
    await this.publish(
      this.topology.exchange('delay'),
      this.topology.delayRoutingKey(delayMs, queueName),
      body,
      props,
    );
  }

  async close(): Promise<void> {
    await this.publisher.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
