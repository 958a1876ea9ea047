/**
 * Realistic order traffic through the public interfaces (HTTP and the AMQP apply command), shared by
 * `npm run demo` and the chaos suite. Each scenario returns the order it made.
 */
import { randomUUID } from 'node:crypto';
import type amqplib from 'amqplib';
import { connectToAnyNode } from '@payments/platform';
import type { Endpoints } from './invariants';

export const SCENARIOS = [
  'simple',
  'double-click',
  'switch',
  'voucher-then-wallet',
  'cancel-then-pay',
  'abandoned',
  'by-queue',
  'alipay-qr',
  'alipay-page-late',
  'wechat-native',
  'two-wallets',
  'stripe-card',
  'boleto-then-card',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface TrafficResult {
  merchantOrderNo: string;
  scenario: Scenario;
  /** The shopper paid at least once (so the order should end PAID, or refunded in full if closed). */
  paid: boolean;
  errors: string[];
}

export interface TrafficOptions extends Endpoints {
  /** For applies by message: `${prefix}.payments.commands`. */
  amqpUrl: string;
  commandsExchange: string;
  /** Orders that are never paid expire after this long. */
  abandonAfterMs: number;
  /** Every other order's validity (an order whose apply was cut off still ends, at its expiry). */
  expireAfterMs: number;
  label: string;
  /** The Alipay sandbox (its control API and pages): the shopper of the Alipay scenarios pays there. */
  alipayUrl: string;
  /** The WeChat Pay sandbox, where the shopper of the WeChat Pay scenarios pays. */
  wechatpayUrl: string;
  /** The Stripe sandbox: its Checkout pages and control API (card payments, Boleto vouchers). */
  stripeUrl: string;
  /**
   * Gateways to spread requests over, asked at each request (the chaos suite replaces killed
   * ones); `gatewayUrl` alone when absent.
   */
  gatewayUrls?: () => readonly string[];
}

let sequence = 0;

export class TrafficDriver {
  private connection?: amqplib.ChannelModel;
  private channel?: amqplib.Channel;
  private readonly replies = new Map<
    string,
    (reply: { status: number; body: { attempt?: { channelOrderNo: string } } }) => void
  >();

  private requests = 0;

  constructor(private readonly options: TrafficOptions) {}

  /** The gateway for the next request: round robin, so a double click reaches two instances. */
  private gateway(): string {
    const urls = this.options.gatewayUrls?.() ?? [];
    this.requests += 1;
    return urls.length > 0 ? urls[this.requests % urls.length]! : this.options.gatewayUrl;
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }

  private defaults(merchantOrderNo: string) {
    const expireAt = new Date(Date.now() + this.options.expireAfterMs).toISOString();
    return { merchantOrderNo, currency: 'CNY', subject: 'Demo order', channel: 'sandbox-wallet', expireAt };
  }

  private async apply(merchantOrderNo: string, body: Record<string, unknown>) {
    const response = await fetch(`${this.gateway()}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...this.defaults(merchantOrderNo), ...body }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { attempt?: { channelOrderNo: string }; error?: { code: string } },
    };
  }

  private async applyByQueue(merchantOrderNo: string, body: Record<string, unknown>) {
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
      this.publishApply(correlationId, merchantOrderNo, body);
    } catch (error) {
      clearTimeout(timer);
      this.replies.delete(correlationId);
      throw error;
    }
    return reply;
  }

  private publishApply(correlationId: string, merchantOrderNo: string, body: Record<string, unknown>): void {
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

  /** The shopper pays at a sandbox's control API (the PSP unless told; Alipay's or WeChat Pay's for their channels). */
  private async pay(channelOrderNo: string | undefined, sandboxUrl = this.options.pspUrl): Promise<boolean> {
    if (!channelOrderNo) return false;
    return (
      (await fetch(`${sandboxUrl}/sandbox/trades/${channelOrderNo}/pay`, { method: 'POST' })).status === 200
    );
  }

  private async cancel(merchantOrderNo: string): Promise<number> {
    const response = await fetch(`${this.gateway()}/v1/payments/${merchantOrderNo}/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.options.apiKey}` },
    });
    return response.status;
  }

  async run(scenario: Scenario): Promise<TrafficResult> {
    sequence += 1;
    const merchantOrderNo = `${this.options.label}-${scenario}-${Date.now().toString(36)}-${sequence}`;
    const amount = 100 + ((sequence * 37) % 9900);
    const errors: string[] = [];
    const expect = (what: string, ok: boolean) => {
      if (!ok) errors.push(what);
    };
    let paid = false;
    try {
      paid = await this.play(scenario, merchantOrderNo, amount, expect);
    } catch (error) {
      // Cut off (a killed gateway, a broker restart): the order is still checked like any other.
      errors.push(`cut off: ${(error as Error).message}`);
    }
    return { merchantOrderNo, scenario, paid, errors };
  }

  /** One scenario's steps; true when the shopper paid at least once. */
  private async play(
    scenario: Scenario,
    merchantOrderNo: string,
    amount: number,
    expect: (what: string, ok: boolean) => void,
  ): Promise<boolean> {
    let paid = false;
    switch (scenario) {
      case 'simple': {
        const applied = await this.apply(merchantOrderNo, { amount });
        expect(`apply answered ${applied.status}`, applied.status === 201);
        paid = await this.pay(applied.body.attempt?.channelOrderNo);
        break;
      }
      case 'double-click': {
        // Double and triple clicks, in turn.
        const clickCount = 2 + (sequence % 2);
        const clicks = await Promise.all(
          Array.from({ length: clickCount }, () => this.apply(merchantOrderNo, { amount })),
        );
        const channelOrderNos = new Set(
          clicks.filter((click) => click.status < 300).map((click) => click.body.attempt?.channelOrderNo),
        );
        expect(`${clickCount} clicks made ${channelOrderNos.size} attempts`, channelOrderNos.size === 1);
        paid = await this.pay([...channelOrderNos][0]);
        break;
      }
      case 'switch': {
        const wallet = await this.apply(merchantOrderNo, { amount });
        const qr = await this.apply(merchantOrderNo, { amount, channel: 'sandbox-qr' });
        expect(`switch answered ${qr.status}`, qr.status === 201);
        // The shopper tries the old QR code too: closed, so it cannot be paid (or, if the close failed, the refunder handles it).
        await this.pay(wallet.body.attempt?.channelOrderNo);
        paid = await this.pay(qr.body.attempt?.channelOrderNo);
        break;
      }
      case 'voucher-then-wallet': {
        const voucher = await this.apply(merchantOrderNo, { amount, channel: 'sandbox-voucher' });
        const wallet = await this.apply(merchantOrderNo, { amount });
        paid = await this.pay(wallet.body.attempt?.channelOrderNo);
        // The voucher is paid later, offline: a second charge the refunder must give back.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await this.pay(voucher.body.attempt?.channelOrderNo);
        break;
      }
      case 'cancel-then-pay': {
        const voucher = await this.apply(merchantOrderNo, { amount, channel: 'sandbox-voucher' });
        expect('close answered', (await this.cancel(merchantOrderNo)) === 200);
        paid = await this.pay(voucher.body.attempt?.channelOrderNo);
        break;
      }
      case 'abandoned': {
        const applied = await this.apply(merchantOrderNo, {
          amount,
          expireAt: new Date(Date.now() + this.options.abandonAfterMs).toISOString(),
        });
        expect(`apply answered ${applied.status}`, applied.status === 201);
        break;
      }
      case 'by-queue': {
        const applied = await this.applyByQueue(merchantOrderNo, { amount });
        expect(`queued apply answered ${applied.status}`, applied.status === 201);
        paid = await this.pay(applied.body.attempt?.channelOrderNo);
        break;
      }
      case 'alipay-qr': {
        const applied = await this.apply(merchantOrderNo, { amount, channel: 'alipay-qr' });
        expect(`alipay-qr apply answered ${applied.status}`, applied.status === 201);
        paid = await this.pay(applied.body.attempt?.channelOrderNo, this.options.alipayUrl);
        break;
      }
      case 'alipay-page-late': {
        // The page is handed out but not opened; the shopper switches to the wallet and pays, then
        // opens the old Alipay page after all and pays it too: a second charge, refunded.
        const page = await this.apply(merchantOrderNo, { amount, channel: 'alipay-page' });
        expect(`alipay-page apply answered ${page.status}`, page.status === 201);
        const wallet = await this.apply(merchantOrderNo, { amount });
        paid = await this.pay(wallet.body.attempt?.channelOrderNo);
        const pageUrl = (page.body.attempt as { payUrl?: string } | undefined)?.payUrl;
        if (pageUrl) {
          await fetch(pageUrl);
          paid = (await this.pay(page.body.attempt?.channelOrderNo, this.options.alipayUrl)) || paid;
        }
        break;
      }
      case 'wechat-native': {
        const applied = await this.apply(merchantOrderNo, { amount, channel: 'wechat-native' });
        expect(`wechat-native apply answered ${applied.status}`, applied.status === 201);
        paid = await this.pay(applied.body.attempt?.channelOrderNo, this.options.wechatpayUrl);
        break;
      }
      case 'two-wallets': {
        // The seeds' double charge: WeChat Pay opened, the shopper goes back and pays with Alipay,
        // then pays in WeChat as well (where its close failed): one payment kept, one refunded.
        const wechat = await this.apply(merchantOrderNo, { amount, channel: 'wechat-native' });
        expect(`wechat-native apply answered ${wechat.status}`, wechat.status === 201);
        const alipay = await this.apply(merchantOrderNo, { amount, channel: 'alipay-qr' });
        expect(`alipay-qr apply answered ${alipay.status}`, alipay.status === 201);
        paid = await this.pay(alipay.body.attempt?.channelOrderNo, this.options.alipayUrl);
        paid = (await this.pay(wechat.body.attempt?.channelOrderNo, this.options.wechatpayUrl)) || paid;
        break;
      }
      case 'stripe-card': {
        const applied = await this.apply(merchantOrderNo, {
          amount,
          currency: 'USD',
          channel: 'stripe-card',
          returnUrl: 'https://shop.example/back',
        });
        expect(`stripe-card apply answered ${applied.status}`, applied.status === 201);
        paid = await this.pay(applied.body.attempt?.channelOrderNo, this.options.stripeUrl);
        break;
      }
      case 'boleto-then-card': {
        // Paulo's double charge: a Boleto voucher issued, the voucher office far away, the order
        // paid by card, then the voucher paid on market day as well. Stripe refunds no Boleto
        // payment, so the voucher is the payment kept and the card's charge is refunded through
        // Stripe (CONTRACT 9): nothing is owed by hand.
        const order = { amount, currency: 'BRL', returnUrl: 'https://shop.example/back' };
        const voucher = await this.apply(merchantOrderNo, { ...order, channel: 'stripe-boleto' });
        expect(`stripe-boleto apply answered ${voucher.status}`, voucher.status === 201);
        const voucherNo = voucher.body.attempt?.channelOrderNo;
        if (voucherNo)
          await fetch(`${this.options.stripeUrl}/sandbox/trades/${voucherNo}/voucher`, { method: 'POST' });
        try {
          const card = await this.apply(merchantOrderNo, { ...order, channel: 'stripe-card' });
          expect(`stripe-card apply answered ${card.status}`, card.status === 201);
          paid = await this.pay(card.body.attempt?.channelOrderNo, this.options.stripeUrl);
        } finally {
          // Market day comes whatever happened at the shop (a voucher out is paid, or in flight for days).
          paid = (await this.pay(voucherNo, this.options.stripeUrl)) || paid;
        }
        break;
      }
      default: {
        const unknown: never = scenario;
        throw new Error(`unknown scenario ${String(unknown)}`);
      }
    }
    return paid;
  }
}
