/**
 * The benchmark's own isolated stack: a fresh TOPOLOGY_PREFIX and database (createTestEnv), the
 * example order service in this process (it timestamps every accepted payment-result), and the
 * sandbox PSP and the four services as child processes exactly as `npm run start -w <part>` runs
 * them. Everything it made is removed by `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import amqplib from 'amqplib';
import type { FastifyInstance } from 'fastify';
import { createTestEnv, type TestEnv } from '@payments/testkit';
import { sandboxProvidersEnv } from '../lib/sandbox-env';
import { partArgs } from '../lib/processes';
import { httpJson } from './http';
import { sleep, withDeadline } from './pool';
import { startTimedOrderService } from './order-service';
import { freePort, peakRssMiB, stopChild } from './processes';
import { forwardServiceLogs } from './service-logs';

export type ServiceKind = 'payment-gateway' | 'poller' | 'notifier' | 'refunder';
export const SERVICE_KINDS: readonly ServiceKind[] = ['payment-gateway', 'poller', 'notifier', 'refunder'];

export const API_KEY = 'sk_test_local';
const PSP_SECRET = 'psp_test_secret';
const ORDER_SERVICE_SECRET = 'order_test_secret';
const ROOT = join(__dirname, '..', '..');

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

export interface RunningService {
  kind: ServiceKind;
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
}

export class BenchStack {
  env!: TestEnv;
  pspPid = 0;
  pspUrl = '';
  alipayPid = 0;
  alipayUrl = '';
  wechatpayPid = 0;
  wechatpayUrl = '';
  stripePid = 0;
  stripeUrl = '';
  /** The first gateway's port, known before it starts: Stripe's sandbox sends its webhooks there. */
  private gatewayPort = 0;
  orderService!: FastifyInstance;
  orderServiceUrl = '';
  readonly running: RunningService[] = [];
  /** merchantOrderNo → performance.now() of the first accepted payment-result delivery. */
  readonly notifiedAt = new Map<string, number>();
  /** Warnings and errors the services logged, by service and message (their logs are JSON lines). */
  readonly logTally: Record<string, number> = {};
  /** Peak RSS of service processes that were stopped before the end (per kind, MiB). */
  readonly retiredPeakRss: Partial<Record<ServiceKind, number>> = {};
  private children: ChildProcess[] = [];
  private cleaned = false;

  constructor(private readonly overrides: Record<string, string>) {}

  get prefix(): string {
    return this.env.config.TOPOLOGY_PREFIX;
  }

  get gatewayUrl(): string {
    const gateway = this.running.find((service) => service.kind === 'payment-gateway');
    if (!gateway) throw new Error('no gateway is running');
    return gateway.url;
  }

  service(kind: ServiceKind): RunningService {
    const found = this.running.find((service) => service.kind === kind);
    if (!found) throw new Error(`no ${kind} is running`);
    return found;
  }

  /** The sandboxes and the prefix + database; the services come later (`startServices`). */
  async start(): Promise<void> {
    // The provider is another party: its own process, as `npm run start -w sandbox/psp` runs it, so
    // its work (queries from the poller, notifies) never stalls the load generator or the order
    // service's clock here.
    // Its settings whole (its secret and its own address), as the providers' configuration asks.
    ({ pid: this.pspPid, url: this.pspUrl } = await this.startSandbox('psp', 'SANDBOX_PSP_PORT', (url) => ({
      PSP_SECRET,
      PSP_BASE_URL: url,
    })));
    // Alipay's sandbox likewise: it verifies each request's RSA2 signature and signs each answer.
    ({ pid: this.alipayPid, url: this.alipayUrl } = await this.startSandbox('alipay', 'SANDBOX_ALIPAY_PORT'));
    // Stripe's: its API keys and idempotency keys, webhooks to the first gateway (HMAC-signed).
    this.gatewayPort = await freePort();
    ({ pid: this.stripePid, url: this.stripeUrl } = await this.startSandbox('stripe', 'SANDBOX_STRIPE_PORT', {
      SANDBOX_STRIPE_WEBHOOK_URL: `http://127.0.0.1:${this.gatewayPort}/v1/notify/stripe`,
    }));
    // And WeChat Pay's: it verifies each request's signature and signs each answer (RSA-SHA256).
    ({ pid: this.wechatpayPid, url: this.wechatpayUrl } = await this.startSandbox(
      'wechatpay',
      'SANDBOX_WECHATPAY_PORT',
    ));

    ({ app: this.orderService, url: this.orderServiceUrl } = await startTimedOrderService(
      ORDER_SERVICE_SECRET,
      this.notifiedAt,
    ));

    this.env = await createTestEnv({
      // Every provider at its sandbox, with the sandboxes' own keys: the configuration has no defaults.
      ...sandboxProvidersEnv({
        psp: this.pspUrl,
        alipay: this.alipayUrl,
        wechatpay: this.wechatpayUrl,
        stripe: this.stripeUrl,
      }),
      PSP_SECRET,
      ORDER_SERVICE_URL: this.orderServiceUrl,
      ORDER_SERVICE_SECRET,
      API_KEYS: API_KEY,
      ...this.overrides,
    });
  }

  /** One sandbox provider as its own process, as `npm run start -w sandbox/<name>` runs it. */
  private async startSandbox(
    name: string,
    portVariable: string,
    env: Record<string, string> | ((url: string) => Record<string, string>) = {},
  ): Promise<{ pid: number; url: string }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dir = join(ROOT, 'sandbox', name);
    const child = spawn(process.execPath, partArgs(dir), {
      cwd: dir,
      env: {
        ...process.env,
        [portVariable]: String(port),
        LOG_LEVEL: 'warn',
        ...(typeof env === 'function' ? env(url) : env),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.children.push(child);
    await this.waitReady(`sandbox ${name}`, child, `${url}/healthz`);
    return { pid: child.pid!, url };
  }

  /** One role of the floor program (scripts/bench/floor) as its own process; waits for its /healthz. */
  private async startFloorRole(
    role: string,
    env: Record<string, string>,
  ): Promise<{ pid: number; url: string; child: ChildProcess }> {
    const dir = join(ROOT, 'scripts', 'bench', 'floor');
    const port = await freePort();
    const child = spawn(process.execPath, partArgs(dir), {
      cwd: dir,
      env: { ...process.env, FLOOR_ROLE: role, FLOOR_PORT: String(port), ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.children.push(child);
    const url = `http://127.0.0.1:${port}`;
    await this.waitReady(`floor ${role}`, child, `${url}/healthz`);
    return { pid: child.pid!, url, child };
  }

  /** The floor's provider stub and gateway (scripts/bench/floor), each its own process. */
  async startFloor(): Promise<{ gatewayPid: number; stubPid: number; url: string }> {
    const stub = await this.startFloorRole('stub', {});
    const gateway = await this.startFloorRole('gateway', {
      DATABASE_URL: this.env.config.DATABASE_URL,
      REDIS_URL: this.env.config.REDIS_URL,
      FLOOR_STUB_URL: stub.url,
    });
    return { gatewayPid: gateway.pid, stubPid: stub.pid, url: gateway.url };
  }

  /** The delivery floor (FLOOR_ROLE=notifier): consumes `queue` (a quorum queue it declares), posts to our order service. */
  async startFloorNotifier(queue: string): Promise<{ pid: number; url: string; child: ChildProcess }> {
    return this.startFloorRole('notifier', {
      DATABASE_URL: this.env.config.DATABASE_URL,
      AMQP_URL: this.env.config.AMQP_URL,
      FLOOR_QUEUE: queue,
      FLOOR_ORDER_SERVICE_URL: this.orderServiceUrl,
      FLOOR_ORDER_SERVICE_SECRET: ORDER_SERVICE_SECRET,
    });
  }

  async startServices(): Promise<void> {
    // One at a time: four start-ups at once on two cores only make each slower.
    for (const kind of SERVICE_KINDS) await this.spawn(kind);
  }

  /** Starts one process of `kind` and waits until its /readyz answers 200. */
  async spawn(kind: ServiceKind, extraEnv: Record<string, string> = {}): Promise<RunningService> {
    const first = kind === 'payment-gateway' && this.gatewayPort > 0;
    const port = first ? this.gatewayPort : await freePort();
    if (first) this.gatewayPort = 0;
    const portEnv: Record<string, string> =
      kind === 'payment-gateway'
        ? { GATEWAY_PORT: String(port), GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}` }
        : { METRICS_PORT: String(port) };
    // BENCH_NODE_ARGS adds node options to every service, e.g. `--cpu-prof` to see where time goes;
    // after the heap sizes (`NODE_HEAP_OPTIONS`), so that they can be overridden (V8 takes the last).
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const dir = join(ROOT, 'services', kind);
    const args = partArgs(dir);
    args.splice(args.length - 1, 0, ...nodeArgs);
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: { ...process.env, ...this.env.env, ...extraEnv, ...portEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    forwardServiceLogs(kind, child, this.logTally);
    const url = `http://127.0.0.1:${port}`;
    await this.waitReady(kind, child, `${url}/readyz`);
    const running: RunningService = { kind, child, pid: child.pid!, port, url };
    this.running.push(running);
    log(`${kind} ready (pid ${running.pid}, port ${port})`);
    return running;
  }

  /** Waits until `url` answers 200, or fails when the child exits or 60 s pass. */
  private async waitReady(name: string, child: ChildProcess, url: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${name} exited during start (${child.exitCode ?? child.signalCode})`);
      const ready = await httpJson('GET', url, undefined, {}, 2000).then(
        (answer) => answer.status === 200,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`${name} not ready within 60 s`);
      await sleep(100);
    }
  }

  /** SIGTERM (drains and exits 0), SIGKILL if it takes longer than `graceMs`; keeps its peak RSS. */
  async stopService(service: RunningService, graceMs = 15_000): Promise<void> {
    const peak = peakRssMiB(service.pid);
    if (peak !== undefined)
      this.retiredPeakRss[service.kind] = Math.max(this.retiredPeakRss[service.kind] ?? 0, peak);
    const index = this.running.indexOf(service);
    if (index >= 0) this.running.splice(index, 1);
    await stopChild(service.child, graceMs);
  }

  /** Waits until every order in `merchantOrderNos` was notified, or `timeoutMs` passes. */
  async waitNotified(merchantOrderNos: readonly string[], timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let missing = merchantOrderNos.filter((no) => !this.notifiedAt.has(no));
    while (missing.length > 0 && Date.now() < deadline) {
      await sleep(20);
      missing = missing.filter((no) => !this.notifiedAt.has(no));
    }
    return missing;
  }

  /**
   * Waits until the poller's work queue holds no ready message twice in a row (its backlog done),
   * or `timeoutMs` passes; returns how long it waited.
   */
  async waitPollerIdle(timeoutMs: number): Promise<number> {
    const started = performance.now();
    const connection = await amqplib.connect(this.env.config.AMQP_URL);
    try {
      const channel = await connection.createChannel();
      const queue = `${this.prefix}.payments.poller.attempts`;
      let emptyInARow = 0;
      while (emptyInARow < 2 && performance.now() - started < timeoutMs) {
        emptyInARow = (await channel.checkQueue(queue)).messageCount === 0 ? emptyInARow + 1 : 0;
        if (emptyInARow < 2) await sleep(200);
      }
    } finally {
      await connection.close();
    }
    return Math.round(performance.now() - started);
  }

  async setPspFaults(faults: Record<string, unknown> | undefined): Promise<void> {
    await httpJson('DELETE', `${this.pspUrl}/sandbox/faults`);
    if (faults) await httpJson('PUT', `${this.pspUrl}/sandbox/faults`, faults);
  }

  /** Kills every child this run started, closes the sandboxes, removes the prefix and database. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    await Promise.all(this.children.map((child) => stopChild(child, 10_000)));
    await withDeadline('closing the sandboxes', 10_000, this.closeSandboxes()).catch((error: unknown) =>
      log(`sandbox close: ${(error as Error).message}`),
    );
    if (this.env)
      await withDeadline('removing the test prefix and database', 30_000, this.env.cleanup()).catch(
        (error: unknown) => log(`cleanup: ${(error as Error).message}`),
      );
  }

  /** Last resort on process exit: no child outlives the benchmark. */
  killChildrenNow(): void {
    for (const child of this.children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private async closeSandboxes(): Promise<void> {
    await this.orderService?.close();
  }
}
