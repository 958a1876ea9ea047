/** Applies for payment over HTTP and over AMQP (CONTRACT 3 and 4), and closing orders afterwards. */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import amqplib from 'amqplib';
import { httpJson, type HttpAnswer } from './http';
import { forEachBounded } from './pool';
import { API_KEY, type BenchStack } from './stack';
import { round, summarize, Tally } from './stats';

export const AUTH = { authorization: `Bearer ${API_KEY}` };

let sequence = 0;
const runId = Date.now().toString(36);

/** A merchant order number unique to this run. */
export function orderNo(label: string): string {
  sequence += 1;
  return `${label}-${runId}-${sequence}`;
}

export function applyBody(merchantOrderNo: string, overrides: Record<string, unknown> = {}) {
  return {
    merchantOrderNo,
    amount: 1000 + (sequence % 9000),
    currency: 'CNY',
    channel: 'sandbox-wallet',
    subject: 'Bench order',
    // Hosted checkouts (Stripe) send the shopper back here; the others ignore it.
    returnUrl: 'https://shop.example/back',
    ...overrides,
  };
}

export function applyHttp(gatewayUrl: string, body: ReturnType<typeof applyBody>): Promise<HttpAnswer> {
  return httpJson('POST', `${gatewayUrl}/v1/payments`, body, AUTH);
}

export function payAtPsp(pspUrl: string, channelOrderNo: string): Promise<HttpAnswer> {
  return httpJson('POST', `${pspUrl}/sandbox/trades/${encodeURIComponent(channelOrderNo)}/pay`);
}

export interface ApplyPhaseResult {
  figures: Record<string, unknown>;
  perSecond: number;
  merchantOrderNos: string[];
}

/** `orders` unique applies by `clients` concurrent HTTP clients (keep-alive). */
export async function applyOverHttp(
  stack: BenchStack,
  orders: number,
  clients: number,
  label: string,
  channel = 'sandbox-wallet',
  /** Another gateway to apply at (the floor's); ours by default. */
  gatewayUrl?: string,
): Promise<ApplyPhaseResult> {
  const statuses = new Tally();
  const latencies: number[] = [];
  const merchantOrderNos: string[] = [];
  const started = performance.now();
  await forEachBounded(orders, clients, async () => {
    const merchantOrderNo = orderNo(label);
    merchantOrderNos.push(merchantOrderNo);
    const began = performance.now();
    const answer = await applyHttp(
      gatewayUrl ?? stack.gatewayUrl,
      applyBody(merchantOrderNo, { channel }),
    ).catch((error: unknown) => ({ status: 0, body: String(error) }) as HttpAnswer);
    latencies.push(performance.now() - began);
    statuses.add(answer.status === 0 ? 'networkError' : answer.status);
  });
  const seconds = (performance.now() - started) / 1000;
  const perSecond = statuses.get(201) / seconds;
  return {
    perSecond,
    merchantOrderNos,
    figures: {
      clients,
      orders,
      created201: statuses.get(201),
      statuses: statuses.counts,
      seconds: round(seconds, 2),
      perSecond: round(perSecond, 1),
      ...latencyFields(latencies),
    },
  };
}

export function latencyFields(latencies: number[]) {
  const { p50Ms, p90Ms, p99Ms, maxMs } = summarize(latencies);
  return { p50Ms, p90Ms, p99Ms, maxMs };
}

interface Reply {
  status: number;
  body: unknown;
}

/** RPC over the broker: publish `payment.apply` with direct reply-to, resolve on the reply. */
export class AmqpApplier {
  private connection?: amqplib.ChannelModel;
  private channel?: amqplib.Channel;
  private readonly pending = new Map<string, (reply: Reply) => void>();

  constructor(
    private readonly url: string,
    private readonly exchange: string,
  ) {}

  async open(): Promise<void> {
    this.connection = await amqplib.connect(this.url);
    this.channel = await this.connection.createChannel();
    await this.channel.checkExchange(this.exchange);
    await this.channel.consume(
      'amq.rabbitmq.reply-to',
      (message) => {
        if (!message) return;
        const correlationId = message.properties.correlationId as string;
        this.pending.get(correlationId)?.(JSON.parse(message.content.toString()) as Reply);
      },
      { noAck: true },
    );
  }

  apply(body: Record<string, unknown>, timeoutMs = 30_000): Promise<Reply> {
    const channel = this.channel;
    if (!channel) return Promise.reject(new Error('AmqpApplier.open() first'));
    const correlationId = randomUUID();
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error('no reply within the timeout'));
      }, timeoutMs);
      this.pending.set(correlationId, (reply) => {
        clearTimeout(timer);
        this.pending.delete(correlationId);
        resolve(reply);
      });
      channel.publish(this.exchange, 'payment.apply', Buffer.from(JSON.stringify(body)), {
        messageId: randomUUID(),
        correlationId,
        replyTo: 'amq.rabbitmq.reply-to',
        contentType: 'application/json',
        persistent: true,
      });
    });
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }
}

/** `orders` unique applies by message, `inFlight` awaiting their reply at once. */
export async function applyOverAmqp(
  stack: BenchStack,
  orders: number,
  inFlight: number,
  label: string,
): Promise<ApplyPhaseResult> {
  const config = stack.env.config;
  const applier = new AmqpApplier(config.AMQP_URL, `${config.TOPOLOGY_PREFIX}.payments.commands`);
  await applier.open();
  try {
    const statuses = new Tally();
    const latencies: number[] = [];
    const merchantOrderNos: string[] = [];
    const started = performance.now();
    await forEachBounded(orders, inFlight, async () => {
      const merchantOrderNo = orderNo(label);
      merchantOrderNos.push(merchantOrderNo);
      const began = performance.now();
      const reply = await applier
        .apply(applyBody(merchantOrderNo))
        .catch((error: unknown) => ({ status: 0, body: String(error) }));
      latencies.push(performance.now() - began);
      statuses.add(reply.status === 0 ? 'timeout' : reply.status);
    });
    const seconds = (performance.now() - started) / 1000;
    const perSecond = statuses.get(201) / seconds;
    return {
      perSecond,
      merchantOrderNos,
      figures: {
        inFlight,
        orders,
        created201: statuses.get(201),
        statuses: statuses.counts,
        seconds: round(seconds, 2),
        perSecond: round(perSecond, 1),
        ...latencyFields(latencies),
      },
    };
  } finally {
    await applier.close();
  }
}

/**
 * Closes orders a phase left unpaid (POST /v1/payments/:no/close), so their attempts stop being
 * polled and do not load the phases after it. Not part of any figure.
 */
export async function closeOrders(stack: BenchStack, merchantOrderNos: readonly string[], concurrency = 32) {
  const statuses = new Tally();
  const started = performance.now();
  await forEachBounded(merchantOrderNos.length, concurrency, async (index) => {
    const answer = await httpJson(
      'POST',
      `${stack.gatewayUrl}/v1/payments/${encodeURIComponent(merchantOrderNos[index]!)}/close`,
      undefined,
      AUTH,
    ).catch(() => ({ status: 0, body: undefined }));
    statuses.add(answer.status);
  });
  return {
    orders: merchantOrderNos.length,
    statuses: statuses.counts,
    seconds: round((performance.now() - started) / 1000, 2),
  };
}
