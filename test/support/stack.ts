import type amqplib from 'amqplib';
import { connectInUtc, connectToAnyNode, databaseOptions, type Config } from '@payments/platform';
import { createLogger, loadConfig } from '@payments/providers';
import type { FastifyInstance } from 'fastify';
import { SANDBOX_KINDS, SANDBOXES, type SandboxKind } from '../../sandbox/registry';
import { sandboxProvidersEnv, type SandboxUrls } from '../../scripts/lib/sandbox-env';
import { createTestEnv, type TestEnv } from '@payments/testkit';
import { createGateway, type Gateway } from '../../services/payment-gateway/src/app';
import { createPoller, type Poller } from '../../services/poller/src/app';
import { createNotifier, type Notifier } from '../../services/notifier/src/app';
import { createRefunder, type Refunder } from '../../services/refunder/src/app';
import { buildOrderService } from '../../sandbox/order-service/src/server';
import { partArgs } from '../../scripts/lib/processes';
import { freePort } from '../../scripts/lib/ports';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openSync } from 'node:fs';

export const API_KEY = 'sk_test_local';

/** The sandbox providers a stack runs (`sandbox/registry.ts`): the PSP (sandbox channels), Alipay, WeChat Pay, Stripe. */
export type { SandboxKind } from '../../sandbox/registry';

export { freePort } from '../../scripts/lib/ports';

export interface StackOptions {
  /** The sandboxes the test needs (default: every one of the registry). */
  sandboxes?: readonly SandboxKind[];
}

/** A test stack: its own prefix and database, a real sandbox PSP, and gateways started on demand. */
export class GatewayStack {
  env!: TestEnv;
  config!: Config;
  /** The sandboxes of the registry this stack runs (every one unless told), in-process, and where each listens. */
  sandboxes: Partial<Record<SandboxKind, FastifyInstance>> = {};
  sandboxUrls: Partial<SandboxUrls> = {};
  gateways: Gateway[] = [];
  /** The first gateway's URL: where providers notify refunds the refunder sends (GATEWAY_PUBLIC_URL). */
  notifyBaseUrl?: string;
  pollers: Poller[] = [];
  notifiers: Notifier[] = [];
  refunders: Refunder[] = [];
  children: ChildProcess[] = [];
  orderService!: ReturnType<typeof buildOrderService>;
  orderServiceUrl!: string;
  private amqp?: amqplib.ChannelModel;
  events: { type: string; body: { eventId: string; type: string; data: Record<string, unknown> } }[] = [];

  /**
   * Starts the stack with `options.sandboxes` (default: every sandbox of the registry). A provider
   * whose sandbox is not started is not configured: its channels are not offered.
   */
  async start(overrides: Record<string, string> = {}, options: StackOptions = {}): Promise<void> {
    for (const kind of options.sandboxes ?? SANDBOX_KINDS) {
      const sandbox = SANDBOXES[kind].build({ gatewayUrl: () => this.notifyBaseUrl });
      this.sandboxes[kind] = sandbox;
      await sandbox.listen({ port: 0, host: '127.0.0.1' });
      this.sandboxUrls[kind] = `http://127.0.0.1:${(sandbox.server.address() as { port: number }).port}`;
    }
    this.orderService = buildOrderService({ secret: 'order_test_secret' });
    await this.orderService.listen({ port: 0, host: '127.0.0.1' });
    const orderAddress = this.orderService.server.address();
    this.orderServiceUrl = `http://127.0.0.1:${typeof orderAddress === 'object' && orderAddress ? orderAddress.port : 0}`;
    this.env = await createTestEnv({
      // Every started provider at its sandbox, with the sandboxes' own keys: the configuration has no defaults.
      ...sandboxProvidersEnv(this.sandboxUrls),
      ORDER_SERVICE_URL: this.orderServiceUrl,
      BREAKER_TIMEOUT: '2s',
      ...overrides,
    });
    this.config = this.env.config;
  }

  /** Starts one more gateway instance on its own port. */
  async startGateway(overrides: Record<string, string> = {}): Promise<{ gateway: Gateway; url: string }> {
    const port = await freePort();
    const config = loadConfig({
      ...process.env,
      ...this.env.env,
      ...(this.sandboxUrls.psp ? { PSP_BASE_URL: this.sandboxUrls.psp } : {}),
      BREAKER_TIMEOUT: '2s',
      GATEWAY_PORT: String(port),
      GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...overrides,
    });
    const gateway = await createGateway(config, createLogger('gateway', config.LOG_LEVEL));
    await gateway.start(port);
    this.gateways.push(gateway);
    this.notifyBaseUrl ??= `http://127.0.0.1:${port}`;
    return { gateway, url: `http://127.0.0.1:${port}` };
  }

  /** The configuration every in-process service of this stack runs with. */
  serviceConfig(overrides: Record<string, string> = {}): Config {
    return loadConfig({ ...process.env, ...this.serviceEnv(overrides) });
  }

  serviceEnv(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      ...this.env.env,
      ...(this.sandboxUrls.psp ? { PSP_BASE_URL: this.sandboxUrls.psp } : {}),
      ORDER_SERVICE_URL: this.orderServiceUrl,
      BREAKER_TIMEOUT: '2s',
      METRICS_PORT: '0',
      ...(this.notifyBaseUrl ? { GATEWAY_PUBLIC_URL: this.notifyBaseUrl } : {}),
      ...overrides,
    };
  }

  async startNotifier(overrides: Record<string, string> = {}): Promise<Notifier> {
    const config = this.serviceConfig(overrides);
    const notifier = await createNotifier(config, createLogger('notifier', config.LOG_LEVEL));
    await notifier.start();
    this.notifiers.push(notifier);
    return notifier;
  }

  async stopNotifier(notifier: Notifier): Promise<void> {
    await notifier.stop();
    this.notifiers = this.notifiers.filter((candidate) => candidate !== notifier);
  }

  async startRefunder(overrides: Record<string, string> = {}): Promise<Refunder> {
    const config = this.serviceConfig(overrides);
    const refunder = await createRefunder(config, createLogger('refunder', config.LOG_LEVEL));
    await refunder.start();
    this.refunders.push(refunder);
    return refunder;
  }

  async stopRefunder(refunder: Refunder): Promise<void> {
    await refunder.stop();
    this.refunders = this.refunders.filter((candidate) => candidate !== refunder);
  }

  /** Runs a service as its own process, exactly as `npm run start -w services/<name>` does. */
  spawnService(
    name: 'payment-gateway' | 'poller' | 'notifier' | 'refunder',
    overrides: Record<string, string> = {},
  ): ChildProcess {
    const dir = join(__dirname, '..', '..', 'services', name);
    const child = spawn(process.execPath, partArgs(dir), {
      cwd: dir,
      env: { ...process.env, ...this.serviceEnv(overrides) },
      // TEST_LOG_DIR: each process's log in a file of its own there, to read after a failure.
      stdio: process.env.TEST_LOG_DIR
        ? ['ignore', openSync(join(process.env.TEST_LOG_DIR, `${name}-${Date.now()}.log`), 'a'), 'inherit']
        : ['ignore', 'ignore', process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore'],
    });
    this.children.push(child);
    return child;
  }

  async setOrderServiceFaults(faults: Record<string, unknown> | undefined): Promise<void> {
    await replaceFaults(`${this.orderServiceUrl}/sandbox/faults`, faults);
  }

  async merchantOrder(
    merchantOrderNo: string,
  ): Promise<{ status: string; deliveries: number; distinctEvents: number } | undefined> {
    const response = await fetch(`${this.orderServiceUrl}/orders/${encodeURIComponent(merchantOrderNo)}`);
    return response.status === 200 ? ((await response.json()) as never) : undefined;
  }

  async startPoller(overrides: Record<string, string> = {}): Promise<Poller> {
    const config = this.serviceConfig(overrides);
    const poller = await createPoller(config, createLogger('poller', config.LOG_LEVEL));
    await poller.start();
    this.pollers.push(poller);
    return poller;
  }

  async stopPoller(poller: Poller): Promise<void> {
    await poller.stop();
    this.pollers = this.pollers.filter((candidate) => candidate !== poller);
  }

  sandboxUrl(sandbox: SandboxKind): string {
    const url = this.sandboxUrls[sandbox];
    if (url === undefined) throw new Error(`the ${sandbox} sandbox is not started in this stack`);
    return url;
  }

  get pspUrl(): string {
    return this.sandboxUrl('psp');
  }

  get alipayUrl(): string {
    return this.sandboxUrl('alipay');
  }

  get wechatpayUrl(): string {
    return this.sandboxUrl('wechatpay');
  }

  get stripeUrl(): string {
    return this.sandboxUrl('stripe');
  }

  /** The shopper pays at a sandbox (the PSP unless told). */
  async pay(channelOrderNo: string, sandbox: SandboxKind = 'psp'): Promise<number> {
    return (
      await fetch(`${this.sandboxUrl(sandbox)}/sandbox/trades/${channelOrderNo}/pay`, { method: 'POST' })
    ).status;
  }

  /** Replaces a sandbox's faults with exactly these (none when undefined). */
  async setFaults(sandbox: SandboxKind, faults: Record<string, unknown> | undefined): Promise<void> {
    await replaceFaults(`${this.sandboxUrl(sandbox)}${SANDBOXES[sandbox].faultsPath}`, faults);
  }

  async setPspFaults(faults: Record<string, unknown> | undefined): Promise<void> {
    await this.setFaults('psp', faults);
  }

  /** A sandbox's ledger of one order's trades and refunds (the PSP's unless told). */
  async ledger(
    merchantOrderNo: string,
    sandbox: SandboxKind = 'psp',
  ): Promise<{
    trades: {
      channelOrderNo: string;
      merchantOrderNo: string;
      channel: string;
      amount: number;
      status: string;
      paidAt: string | null;
    }[];
    refunds: { refundNo: string; channelOrderNo: string; amount: number; status: string }[];
  }> {
    return ledgerAt(this.sandboxUrl(sandbox), merchantOrderNo);
  }

  /** A query on the stack's own database (to show what a failure left behind). */
  async query(sql: string, values: unknown[] = []): Promise<unknown[]> {
    const { host, port, username, password, database } = databaseOptions(this.config.DATABASE_URL);
    const db = await connectInUtc({ host, port, user: username, password, database });
    try {
      return (await db.query(sql, values))[0] as unknown[];
    } finally {
      await db.end();
    }
  }

  /** Collects every event published under this prefix. */
  async listenToEvents(): Promise<void> {
    this.amqp = await connectToAnyNode(this.config.AMQP_URL);
    const channel = await this.amqp.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, `${this.config.TOPOLOGY_PREFIX}.payments.events`, '#');
    await channel.consume(
      queue,
      (message) => {
        if (message)
          this.events.push({ type: message.fields.routingKey, body: JSON.parse(message.content.toString()) });
      },
      { noAck: true },
    );
  }

  eventsOf(type: string, merchantOrderNo?: string) {
    return this.events.filter(
      (event) =>
        event.type === type && (!merchantOrderNo || event.body.data.merchantOrderNo === merchantOrderNo),
    );
  }

  async stop(): Promise<void> {
    for (const child of this.children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const notifier of this.notifiers) await notifier.stop().catch(() => undefined);
    for (const refunder of this.refunders) await refunder.stop().catch(() => undefined);
    for (const poller of this.pollers) await poller.stop().catch(() => undefined);
    for (const gateway of this.gateways) await gateway.stop().catch(() => undefined);
    await this.amqp?.close().catch(() => undefined);
    for (const kind of SANDBOX_KINDS) await this.sandboxes[kind]?.close();
    await this.orderService?.close();
    await this.env?.cleanup();
  }
}

async function ledgerAt(sandboxUrl: string, merchantOrderNo: string): Promise<never> {
  return (
    await fetch(`${sandboxUrl}/sandbox/ledger?merchantOrderNo=${encodeURIComponent(merchantOrderNo)}`)
  ).json() as never;
}

/** Replaces a sandbox's faults (CONTRACT 6 control API, at `faultsUrl`) with exactly these (none when undefined). */
async function replaceFaults(faultsUrl: string, faults: Record<string, unknown> | undefined): Promise<void> {
  await fetch(faultsUrl, { method: 'DELETE' });
  if (faults) {
    await fetch(faultsUrl, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
  }
}

export async function api(url: string, method: string, path: string, body?: unknown, key = API_KEY) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

let sequence = 0;
export function orderNo(label = 'mo'): string {
  sequence += 1;
  return `${label}-${Date.now().toString(36)}-${sequence}`;
}

export function applyBody(merchantOrderNo: string, overrides: Record<string, unknown> = {}) {
  return {
    merchantOrderNo,
    amount: 1250,
    currency: 'CNY',
    channel: 'sandbox-wallet',
    subject: 'Blue teapot',
    ...overrides,
  };
}

/** A message as the management UI shows it (read through its HTTP API). */
export interface ManagementApiMessage {
  properties: { message_id?: string; headers: Record<string, unknown> };
}

/** Reads up to `count` messages of `queue` through the management HTTP API, leaving them queued. */
export async function readQueueThroughManagementApi(
  queue: string,
  count: number,
): Promise<ManagementApiMessage[]> {
  const response = await fetch(`http://127.0.0.1:15672/api/queues/%2F/${encodeURIComponent(queue)}/get`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ count, ackmode: 'ack_requeue_true', encoding: 'auto' }),
  });
  return (await response.json()) as ManagementApiMessage[];
}
