import type { ChildProcess } from 'node:child_process';
import { HEADERS, listDlqs, peekDlq, topologyFor } from '@payments/platform';
import { eventually } from '@payments/testkit';
import {
  checkOrders,
  paymentOf,
  waitUntilQuiet,
  type Endpoints,
  type Violation,
} from '../../scripts/lib/invariants';
import { settleOwedByHand } from '../../scripts/lib/manual-refunds';
import { SCENARIOS, TrafficDriver, type Scenario, type TrafficResult } from '../../scripts/lib/traffic';
import { API_KEY, freePort, GatewayStack } from './stack';

export type ServiceKind = 'payment-gateway' | 'poller' | 'notifier' | 'refunder';

interface Running {
  kind: ServiceKind;
  child: ChildProcess;
  port: number;
}

/**
 * The real services as separate processes (the sandboxes in-process), for the chaos suite: kill,
 * restart and double them while traffic runs, then check CONTRACT 8 for every order.
 */
export class SystemStack {
  readonly stack = new GatewayStack();
  readonly running: Running[] = [];
  gatewayUrls: string[] = [];
  traffic!: TrafficDriver;
  /** Every load started, so that `stop` ends it even when a test failed before it could. */
  private readonly loads: { stop: () => Promise<TrafficResult[]> }[] = [];

  async start(overrides: Record<string, string> = {}): Promise<void> {
    // Retries outlast a lock left by a killed gateway (its lease, ORDER_LOCK.ttlMs, must run out first).
    await this.stack.start({
      POLL_SCHEDULE: '300ms,600ms,1s',
      // Long enough that a payment outlasts the chaos tests' order service failing 30 % of calls:
      // 13 calls (3 quick tries, then 10 steps over 27 s) all failing is 0.3^13 = 2e-7 an order.
      // An open breaker spends steps without calling, so it resets well within the schedule: with
      // the default 30 s, one opening sent every payment then in flight to the dlq.
      NOTIFY_SCHEDULE: '300ms,600ms,1s,2s,3s,5s,5s,5s,5s,5s',
      BREAKER_RESET: '2s',
      RETRY_SCHEDULE: '500ms,1s,2s,5s,10s,20s',
      // A refund its provider never confirms is sent again three times, then held for a person.
      REFUND_POLL_SCHEDULE: '500ms,1s,2s',
      SWEEP_INTERVAL: '1s',
      ...overrides,
    });
  }

  endpoints(): Endpoints {
    return {
      gatewayUrl: this.gatewayUrls[0]!,
      apiKey: API_KEY,
      pspUrl: this.stack.pspUrl,
      otherSandboxUrls: [this.stack.alipayUrl, this.stack.wechatpayUrl, this.stack.stripeUrl],
      orderServiceUrl: this.stack.orderServiceUrl,
    };
  }

  /** Starts one process of `kind` and waits until its /readyz answers 200. */
  async spawn(kind: ServiceKind): Promise<Running> {
    const port = await freePort();
    const env: Record<string, string> =
      kind === 'payment-gateway'
        ? { GATEWAY_PORT: String(port), GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}` }
        : { METRICS_PORT: String(port) };
    const child = this.stack.spawnService(kind, env);
    const running = { kind, child, port };
    this.running.push(running);
    await eventually(
      `${kind} ready`,
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      30_000,
      100,
    );
    if (kind === 'payment-gateway') {
      this.gatewayUrls.push(`http://127.0.0.1:${port}`);
      // The services spawned after it are told where providers notify (GATEWAY_PUBLIC_URL).
      this.stack.notifyBaseUrl ??= `http://127.0.0.1:${port}`;
    }
    return running;
  }

  async startAll(instances = 1): Promise<void> {
    for (let i = 0; i < instances; i++) {
      for (const kind of ['payment-gateway', 'poller', 'notifier', 'refunder'] as const)
        await this.spawn(kind);
    }
    const config = this.stack.config;
    this.traffic = new TrafficDriver({
      ...this.endpoints(),
      amqpUrl: config.AMQP_URL,
      commandsExchange: `${config.TOPOLOGY_PREFIX}.payments.commands`,
      alipayUrl: this.stack.alipayUrl,
      wechatpayUrl: this.stack.wechatpayUrl,
      stripeUrl: this.stack.stripeUrl,
      abandonAfterMs: 3000,
      expireAfterMs: 20_000,
      label: 'chaos',
      gatewayUrls: () => this.gatewayUrls,
    });
  }

  /**
   * Stops one process of `kind` with `signal` and starts a new one in its place; tells how the
   * old one ended and how long it took.
   */
  async restart(
    kind: ServiceKind,
    signal: NodeJS.Signals = 'SIGKILL',
  ): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stopMs: number }> {
    const ended = await this.stopOne(kind, signal);
    await this.spawn(kind);
    return ended;
  }

  /** Stops one process of `kind` with `signal` (none starts in its place); tells how it ended. */
  async stopOne(
    kind: ServiceKind,
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stopMs: number }> {
    const index = this.running.findIndex((running) => running.kind === kind);
    const [victim] = this.running.splice(index, 1);
    const started = Date.now();
    victim!.child.kill(signal);
    await new Promise((resolve) =>
      victim!.child.exitCode !== null || victim!.child.signalCode !== null
        ? resolve(null)
        : victim!.child.once('exit', resolve),
    );
    const ended = {
      exitCode: victim!.child.exitCode,
      signal: victim!.child.signalCode,
      stopMs: Date.now() - started,
    };
    if (kind === 'payment-gateway')
      this.gatewayUrls = this.gatewayUrls.filter((url) => url !== `http://127.0.0.1:${victim!.port}`);
    return ended;
  }

  /** Runs traffic of every scenario until `stop()` is called; errors (e.g. a killed gateway) are recorded, not thrown. */
  load(concurrency = 4): { stop: () => Promise<TrafficResult[]> } {
    const results: TrafficResult[] = [];
    let stopping = false;
    let turn = 0;
    const worker = async () => {
      while (!stopping) {
        const scenario: Scenario = SCENARIOS[turn++ % SCENARIOS.length]!;
        const driver = this.traffic;
        const result = await driver.run(scenario).catch((error: unknown) => ({
          merchantOrderNo: '',
          scenario,
          paid: false,
          errors: [(error as Error).message],
        }));
        if (result.merchantOrderNo) results.push(result);
      }
    };
    const workers = Array.from({ length: concurrency }, worker);
    const running = {
      stop: async () => {
        stopping = true;
        await Promise.all(workers);
        return results;
      },
    };
    this.loads.push(running);
    return running;
  }

  /** Waits for quiet, then CONTRACT 8 for every order, and every dlq empty. */
  async verify(
    orders: string[],
    timeoutMs = 90_000,
  ): Promise<{ notQuiet: string[]; violations: Violation[]; dlqs: Record<string, string[]> }> {
    await this.expireOutstandingVouchers(orders);
    const notQuiet = await waitUntilQuiet(this.endpoints(), orders, timeoutMs);
    // The operator pays back what no provider can refund (Boleto), as payctl refund settle-manually records.
    await settleOwedByHand(this.stack.config.DATABASE_URL, orders, 'chaos-operator');
    const violations = await this.check(orders);
    const dlqs: Record<string, string[]> = {};
    for (const dlq of await listDlqs(this.stack.config.AMQP_URL, topologyFor(this.stack.config))) {
      if (dlq.messages === 0) continue;
      // What a person would read in the management UI, so a failure explains itself.
      dlqs[dlq.queue] = (await peekDlq(this.stack.config.AMQP_URL, dlq.queue, 5)).map(
        (message) =>
          `${String(message.headers[HEADERS.reason])}: ${String(message.headers[HEADERS.lastError])}`,
      );
    }
    return { notQuiet, violations, dlqs };
  }

  /**
   * CONTRACT 8 for these orders as they stand now (no waiting): a refund made at a provider's portal
   * counts once reconciliation recorded it as made outside.
   */
  async check(orders: string[]): Promise<Violation[]> {
    const outside = new Map<string, number>();
    if (orders.length > 0)
      for (const row of (await this.stack.query(
        `SELECT c.merchant_order_no AS no, SUM(d.amount) AS amount FROM recon_difference d
           JOIN channel_order c ON c.channel_order_no = d.channel_order_no
          WHERE d.kind = 'REFUND_MADE_OUTSIDE' AND d.status = 'ACTED' AND c.merchant_order_no IN (?)
          GROUP BY c.merchant_order_no`,
        [orders],
      )) as { no: string; amount: string }[])
        outside.set(row.no, Number(row.amount));
    return checkOrders({ ...this.endpoints(), refundedOutside: async (no) => outside.get(no) ?? 0 }, orders);
  }

  /**
   * A Boleto voucher issued and never paid (its shopper's scenario was cut short by a kill) stays
   * in flight until its own expiry, three days out: here that day comes at once, as the sandbox's
   * `expire-voucher` lets it, so the order can end.
   */
  private async expireOutstandingVouchers(orders: string[]): Promise<void> {
    for (const no of orders) {
      const payment = await paymentOf(this.endpoints(), no);
      for (const attempt of payment?.attempts ?? [])
        if ((attempt as { channel?: string }).channel === 'stripe-boleto' && attempt.status === 'PAYING')
          await fetch(`${this.stack.stripeUrl}/sandbox/trades/${attempt.channelOrderNo}/expire-voucher`, {
            method: 'POST',
          });
    }
  }

  async stop(): Promise<void> {
    // A test that failed midway left its traffic running: it would open new connections forever.
    for (const load of this.loads) await load.stop();
    await this.traffic?.close();
    for (const running of this.running) running.child.kill('SIGTERM');
    await Promise.all(
      this.running.map(
        (running) =>
          new Promise((resolve) =>
            running.child.exitCode !== null ? resolve(null) : running.child.once('exit', resolve),
          ),
      ),
    );
    await this.stack.stop();
  }
}
