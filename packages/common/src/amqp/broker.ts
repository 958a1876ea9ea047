import { randomUUID } from 'node:crypto';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
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

/** Declares every exchange, queue and binding of the topology; safe to run again. */
export async function declareTopology(channel: ConfirmChannel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges()) {
    await channel.assertExchange(exchange.name, exchange.type, {
      durable: true,
      arguments: exchange.arguments,
    });
  }
  for (const queue of topology.queues()) {
    await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
    for (const binding of queue.bindings) await channel.bindQueue(queue.name, binding.exchange, binding.key);
  }
}

/**
 * One connection (reconnecting) with a confirm channel for publishing. Publishes resolve only
 * when the broker confirms them, and a mandatory publish that no queue took rejects.
 */
export class Broker {
  readonly connection: AmqpConnectionManager;
  readonly publisher: ChannelWrapper;
  private readonly returned = new Set<string>();

  private constructor(
    url: string,
    readonly topology: Topology,
    private readonly log: Logger,
  ) {
    this.connection = amqp.connect([url], { heartbeatIntervalInSeconds: 10, reconnectTimeInSeconds: 1 });
    this.connection.on('disconnect', ({ err }) =>
      this.log.warn({ err: err?.message }, 'broker disconnected'),
    );
    this.connection.on('connect', () => this.log.info('broker connected'));
    this.publisher = this.connection.createChannel({
      name: 'publisher',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        channel.on('return', (message: ConsumeMessage) => {
          const publishId = message.properties.headers?.[HEADERS.publishId];
          if (typeof publishId === 'string') this.returned.add(publishId);
        });
        await declareTopology(channel, topology);
      },
    });
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
