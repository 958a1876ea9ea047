/**
 * The apply command sent as a message (`payment.apply` on the commands exchange), its answer read
 * from RabbitMQ's direct reply-to: one connection, opened at the first apply and again after a
 * broker restart ended it.
 */
import { randomUUID } from 'node:crypto';
import type amqplib from 'amqplib';
import { connectToAnyNode } from '@payments/platform';

type Reply = { status: number; body: { attempt?: { channelOrderNo: string } } };

export class QueuedApply {
  private connection?: amqplib.ChannelModel;
  private channel?: amqplib.Channel;
  private readonly replies = new Map<string, (reply: Reply) => void>();

  constructor(
    private readonly options: { amqpUrl: string; commandsExchange: string },
    /** The body an apply of this order has unless told otherwise. */
    private readonly defaults: (merchantOrderNo: string) => Record<string, unknown>,
  ) {}

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }

  async apply(merchantOrderNo: string, body: Record<string, unknown>) {
    if (!this.channel) {
      this.connection = await connectToAnyNode(this.options.amqpUrl);
      // A broker restart ends this connection: the next apply by queue opens a new one.
      const forget = () => {
        this.channel = undefined;
      };
      this.connection.on('error', forget);
      this.connection.on('close', forget);
      this.channel = await this.connection.createChannel();
      await this.channel.consume(
        'amq.rabbitmq.reply-to',
        (message) => {
          if (!message) return;
          this.replies.get(message.properties.correlationId as string)?.(
            JSON.parse(message.content.toString()),
          );
        },
        { noAck: true },
      );
    }
    const correlationId = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<{ status: number; body: { attempt?: { channelOrderNo: string } } }>(
      (resolve, reject) => {
        timer = setTimeout(() => {
          this.replies.delete(correlationId);
          reject(new Error('no reply to the apply command'));
        }, 30_000);
        this.replies.set(correlationId, (answer) => {
          clearTimeout(timer);
          this.replies.delete(correlationId);
          resolve(answer);
        });
      },
    );
    reply.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    try {
      this.publish(correlationId, merchantOrderNo, body);
    } catch (error) {
      clearTimeout(timer);
      this.replies.delete(correlationId);
      throw error;
    }
    return reply;
  }

  private publish(correlationId: string, merchantOrderNo: string, body: Record<string, unknown>): void {
    this.channel!.publish(
      this.options.commandsExchange,
      'payment.apply',
      Buffer.from(JSON.stringify({ ...this.defaults(merchantOrderNo), ...body })),
      {
        messageId: randomUUID(),
        correlationId,
        replyTo: 'amq.rabbitmq.reply-to',
        contentType: 'application/json',
        persistent: true,
      },
    );
  }
}
