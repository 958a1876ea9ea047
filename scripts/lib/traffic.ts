/**
 * Realistic order traffic through the public interfaces (HTTP and the AMQP apply command), shared by
 * `npm run demo` and the chaos suite. Each scenario returns the order it made.
 */
import type { Endpoints } from './invariants';
import { QueuedApply } from './traffic/apply-by-queue';
import { playScenario, type Scenario, type Shop } from './traffic/scenarios';

export { SCENARIOS, type Scenario } from './traffic/scenarios';

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

export class TrafficDriver implements Shop {
  private readonly byQueue: QueuedApply;
  private requests = 0;

  constructor(readonly options: TrafficOptions) {
    this.byQueue = new QueuedApply(options, (merchantOrderNo) => this.defaults(merchantOrderNo));
  }

  /** The gateway for the next request: round robin, so a double click reaches two instances. */
  private gateway(): string {
    const urls = this.options.gatewayUrls?.() ?? [];
    this.requests += 1;
    return urls.length > 0 ? urls[this.requests % urls.length]! : this.options.gatewayUrl;
  }

  async close(): Promise<void> {
    await this.byQueue.close();
  }

  private defaults(merchantOrderNo: string) {
    const expireAt = new Date(Date.now() + this.options.expireAfterMs).toISOString();
    return { merchantOrderNo, currency: 'CNY', subject: 'Demo order', channel: 'sandbox-wallet', expireAt };
  }

  async apply(merchantOrderNo: string, body: Record<string, unknown>) {
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

  applyByQueue(merchantOrderNo: string, body: Record<string, unknown>) {
    return this.byQueue.apply(merchantOrderNo, body);
  }

  /** The shopper pays at a sandbox's control API (the PSP unless told; Alipay's or WeChat Pay's for their channels). */
  async pay(channelOrderNo: string | undefined, sandboxUrl = this.options.pspUrl): Promise<boolean> {
    if (!channelOrderNo) return false;
    return (
      (await fetch(`${sandboxUrl}/sandbox/trades/${channelOrderNo}/pay`, { method: 'POST' })).status === 200
    );
  }

  async cancel(merchantOrderNo: string): Promise<number> {
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
      paid = await playScenario(this, scenario, merchantOrderNo, amount, sequence, expect);
    } catch (error) {
      // Cut off (a killed gateway, a broker restart): the order is still checked like any other.
      errors.push(`cut off: ${(error as Error).message}`);
    }
    return { merchantOrderNo, scenario, paid, errors };
  }
}
