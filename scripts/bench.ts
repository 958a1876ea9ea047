/**
 * `npm run bench`: throughput and latency of the pipeline on this machine, as one JSON object on
 * stdout (progress on stderr). It starts its own isolated stack (own TOPOLOGY_PREFIX and database,
 * the example order service in-process, the sandbox PSP and the four services as child processes,
 * with the heap options they always run with), measures, and removes it all. Every figure comes
 * from this one run; ratios are computed from figures measured side by side.
 *
 * BENCH_SCALE (default 1) multiplies the sizes of the load phases, e.g. 0.2 for a quick look.
 * BENCH_CASHIER_STREAMS (default 2000, 0 skips the row) is how many cashier pages ask for their live
 * stream beside the apply load in the cashier row.
 * BENCH_NODE_ARGS adds node options to the services, after their heap options (so it can override
 * them), e.g. `--max-semi-space-size=16 --max-old-space-size=4096` for V8's defaults here.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { formatDuration, loadConfig } from '@payments/platform';
import { applyOverAmqp, applyOverHttp, closeOrders } from './bench/apply';
import { applyBesideCashierStreams } from './bench/cashier-streams';
import { CpuMeter, serverPids, type CpuReport } from './bench/cpu';
import { closeHttpAgent, httpText } from './bench/http';
import { lifecycleMaxRate, lifecycleSteady } from './bench/lifecycle';
import { droppedCallbackToPaid, pollerThroughput } from './bench/poller';
import { withDeadline } from './bench/pool';
import { rawDatabase, rawRabbit, rawRedisLock } from './bench/raw';
import { BenchStack, log, peakRssMiB, rssMiB, SERVICE_KINDS } from './bench/stack';
import { doubleClickStorm } from './bench/storm';
import { median, round } from './bench/stats';

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const CASHIER_STREAMS = Number(process.env.BENCH_CASHIER_STREAMS ?? '2000');
const scaled = (n: number) => Math.max(1, Math.round(n * (Number.isFinite(SCALE) && SCALE > 0 ? SCALE : 1)));

/** The whole run must end well inside five minutes; this is the hard stop if something hangs. */
const WATCHDOG_MS = 285_000;

/**
 * The services run with the contract's default POLL_SCHEDULE (3s,10s,30s,3m,…), as a merchant
 * runs them: a shorter one multiplies the queries of every unpaid attempt in the load phases
 * (1s,2s,5s, used here before, queries each ~4 times in the first 10 s against once). The poller
 * phases start their own poller on POLLER_PHASE_SCHEDULE, so they finish in seconds.
 */
const POLLER_PHASE_SCHEDULE = '1s,2s,5s';

const SERVICE_POLL_SCHEDULE = loadConfig({}).POLL_SCHEDULE;

const SETTINGS: Record<string, string> = {
  // Said outright: the isolated test environment's own default is a short test schedule.
  POLL_SCHEDULE: SERVICE_POLL_SCHEDULE.map(formatDuration).join(','),
  NOTIFY_SCHEDULE: '1s,2s,5s',
  RETRY_SCHEDULE: '1s,2s,5s',
  REFUND_POLL_SCHEDULE: '1s,2s,5s',
  SWEEP_INTERVAL: '10s',
  // Within the notify schedule (8 s), as a deployment's must be (the notifier warns otherwise).
  BREAKER_RESET: '2s',
  LOG_LEVEL: 'warn',
};

/** The pays-only lifecycle runs this many 10 s windows; the goal is judged on their median p99. */
const PAYS_ONLY_WINDOWS = 3;

const GOALS = {
  applyRatioToRawDb: 0.3,
  callbackToNotifiedP99Ms: 50,
  droppedCallbackExcessMs: 100,
  peakRssMiB: 150,
};

/** `a / b`, or null when either is unknown or b is 0. */
function ratioOf(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : round(a / b, 2);
}

/** The per-operation CPU of each process, one line per phase, on stderr (the JSON has it too). */
function printCpuTable(
  table: Record<string, { operations: number; msPerOperation: Record<string, number> }>,
) {
  const columns = [
    'payment-gateway',
    'poller',
    'notifier',
    'refunder',
    'mariadb',
    'rabbitmq',
    'redis',
    'floorGateway',
    'floorStub',
    'sandboxPsp',
    'sandboxAlipay',
    'sandboxWechatpay',
    'sandboxStripe',
  ];
  const lines = [`CPU ms per operation | ${columns.join(' | ')}`];
  for (const [phaseName, row] of Object.entries(table))
    lines.push(
      `${phaseName} (${row.operations}) | ${columns.map((column) => row.msPerOperation[column] ?? '-').join(' | ')}`,
    );
  process.stderr.write(`${lines.join('\n')}\n`);
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    loadAverage1mAtStart: round(os.loadavg()[0]!, 2),
  };
}

async function main(): Promise<number> {
  // stdout carries only the result: anything a library prints goes to stderr.
  console.log = console.error;
  console.info = console.error;

  const began = performance.now();
  const result: Record<string, unknown> = { machine: machine() };
  const stack = new BenchStack(SETTINGS);
  process.on('exit', () => stack.killChildrenNow());
  let failure: Error | undefined;

  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS / 1000} s; cleaning up and exiting`);
    result.aborted = `watchdog after ${WATCHDOG_MS / 1000} s`;
    void finish(stack, result, began, 1);
  }, WATCHDOG_MS);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      result.aborted = `interrupted by ${signal}`;
      void finish(stack, result, began, 130);
    });

  const phase = async <T>(name: string, limitMs: number, run: () => Promise<T>): Promise<T> => {
    log(`${name} …`);
    const started = performance.now();
    const value = await withDeadline(name, limitMs, run());
    log(`${name} done in ${round((performance.now() - started) / 1000, 1)} s`);
    return value;
  };

  const servers = serverPids();
  let floor: Awaited<ReturnType<BenchStack['startFloor']>> | undefined;
  /** CPU per operation of every process, per phase (ms): each change is judged on the process it touches. */
  const cpuPerOperation: Record<string, { operations: number; msPerOperation: Record<string, number> }> = {};
  const perOperation = (phaseName: string, cpu: CpuReport, operations: number) => {
    if (operations <= 0) return;
    cpuPerOperation[phaseName] = {
      operations,
      msPerOperation: Object.fromEntries(
        Object.entries(cpu.cpuMs)
          .filter(([, ms]) => ms > 0)
          .map(([group, ms]) => [group, round(ms / operations, 3)]),
      ),
    };
  };
  const cpuGroups = (): Record<string, number[]> => ({
    ...Object.fromEntries(
      SERVICE_KINDS.map((kind) => [
        kind,
        stack.running.filter((service) => service.kind === kind).map((service) => service.pid),
      ]),
    ),
    benchProcess: [process.pid],
    sandboxPsp: [stack.pspPid],
    sandboxAlipay: [stack.alipayPid],
    sandboxWechatpay: [stack.wechatpayPid],
    sandboxStripe: [stack.stripePid],
    floorGateway: floor ? [floor.gatewayPid] : [],
    floorStub: floor ? [floor.stubPid] : [],
    ...servers,
  });
  /** A phase with the CPU each process used during it. */
  const measured = async <T>(
    name: string,
    limitMs: number,
    run: () => Promise<T>,
  ): Promise<{ value: T; cpu: CpuReport }> => {
    const meter = new CpuMeter(cpuGroups()).start();
    const value = await phase(name, limitMs, run);
    return { value, cpu: meter.stop() };
  };

  try {
    await phase('start sandboxes, prefix and database', 60_000, () => stack.start());
    const config = stack.env.config;
    result.settings = {
      ...SETTINGS,
      POLL_SCHEDULE: `${SETTINGS.POLL_SCHEDULE} (the default); the poller phases: ${POLLER_PHASE_SCHEDULE}`,
      topologyPrefix: config.TOPOLOGY_PREFIX,
      scale: SCALE,
      note: 'the example order service and the load generator share the bench process; the sandbox PSP runs as its own process (all share the 2 CPUs with the four services, RabbitMQ, Redis and MariaDB)',
    };

    // 1. Raw ceilings, before the services open their pools (MariaDB allows 151 connections).
    const rawDb = await measured('raw MariaDB transactions', 30_000, () => rawDatabase(config));
    const rawMq = await measured('raw RabbitMQ confirmed publishes', 30_000, () => rawRabbit(config));
    const rawRedis = await measured('raw Redis lock', 30_000, () => rawRedisLock(config));
    result.rawCeilings = {
      mariadbTransactions: { ...rawDb.value, cpu: rawDb.cpu },
      rabbitmqConfirmedPublishes: { ...rawMq.value, cpu: rawMq.cpu },
      redisLockAcquireRelease: { ...rawRedis.value, cpu: rawRedis.cpu },
    };
    const rawDbPerSecond = rawDb.value.perSecond;

    await phase('start the four services', 120_000, () => stack.startServices());
    const idleRss = Object.fromEntries(
      stack.running.map((service) => [service.kind, round(rssMiB(service.pid) ?? 0, 1)]),
    );

    // Warm-up (JIT, pools, breaker windows): not measured.
    await phase('warm-up', 60_000, async () => {
      const http = await applyOverHttp(stack, scaled(200), 16, 'warm');
      const amqp = await applyOverAmqp(stack, scaled(100), 16, 'warmq');
      await closeOrders(stack, [...http.merchantOrderNos, ...amqp.merchantOrderNos]);
      // The paying half too: callbacks, settlement, the notifier and the order service.
      await lifecycleMaxRate(stack, scaled(200), 16);
    });

    // 2. Apply over HTTP.
    const { value: applyHttp, cpu: applyHttpCpu } = await measured('apply over HTTP', 90_000, () =>
      applyOverHttp(stack, scaled(2000), 64, 'http'),
    );
    result.applyHttp = {
      ...applyHttp.figures,
      cpu: applyHttpCpu,
      rawDbTransactionsPerSecond: rawDbPerSecond,
      ratioToRawDb: round(applyHttp.perSecond / rawDbPerSecond, 3),
      goalRatio: GOALS.applyRatioToRawDb,
      meetsGoal: applyHttp.perSecond / rawDbPerSecond >= GOALS.applyRatioToRawDb,
    };
    perOperation('apply over HTTP (per apply)', applyHttpCpu, Number(applyHttp.figures.created201));
    const closedHttp = await phase('close the HTTP phase orders (unmeasured)', 90_000, () =>
      closeOrders(stack, applyHttp.merchantOrderNos),
    );

    // 2b. The floor, beside it: the least a gateway can do with the same guards (a fastify route,
    // the Redis lock, a transaction of three inserts, one keep-alive call to a provider stub, a
    // transaction of an update and an outbox insert), under the same 64 clients.
    floor = await phase('start the floor gateway and its provider stub', 60_000, async () => {
      const started = await stack.startFloor();
      // Warmed like ours was (JIT, pools): not measured.
      await applyOverHttp(stack, scaled(200), 16, 'floorwarm', 'sandbox-wallet', started.url);
      return started;
    });
    const { value: floorApply, cpu: floorCpu } = await measured('floor: apply over HTTP', 90_000, () =>
      applyOverHttp(stack, scaled(1000), 64, 'floor', 'sandbox-wallet', floor!.url),
    );
    const floorCreated = Number(floorApply.figures.created201);
    const ourCreated = Number(applyHttp.figures.created201);
    const msPer = (cpu: CpuReport, group: string, count: number) =>
      count > 0 ? round((cpu.cpuMs[group] ?? 0) / count, 3) : null;
    result.floor = {
      ...floorApply.figures,
      cpu: floorCpu,
      gatewayCpuMsPerApply: msPer(floorCpu, 'floorGateway', floorCreated),
      mariadbCpuMsPerApply: msPer(floorCpu, 'mariadb', floorCreated),
      redisCpuMsPerApply: msPer(floorCpu, 'redis', floorCreated),
      providerStubCpuMsPerApply: msPer(floorCpu, 'floorStub', floorCreated),
      ours: {
        gatewayCpuMsPerApply: msPer(applyHttpCpu, 'payment-gateway', ourCreated),
        mariadbCpuMsPerApply: msPer(applyHttpCpu, 'mariadb', ourCreated),
        rabbitmqCpuMsPerApply: msPer(applyHttpCpu, 'rabbitmq', ourCreated),
        pollerCpuMsPerApply: msPer(applyHttpCpu, 'poller', ourCreated),
      },
      ratios: {
        gatewayCpuToFloor: ratioOf(
          msPer(applyHttpCpu, 'payment-gateway', ourCreated),
          msPer(floorCpu, 'floorGateway', floorCreated),
        ),
        mariadbCpuToFloor: ratioOf(
          msPer(applyHttpCpu, 'mariadb', ourCreated),
          msPer(floorCpu, 'mariadb', floorCreated),
        ),
        appliesPerSecondToFloor: round(applyHttp.perSecond / floorApply.perSecond, 3),
      },
      goals: { gatewayCpuToFloor: 1.3, mariadbCpuToFloor: 1.3, appliesPerSecondToFloor: 0.6 },
      note: 'measured right after "apply over HTTP", in the same run; the floor writes its outbox rows as sent, so no relay publishes them',
    };
    perOperation('floor: apply over HTTP (per apply)', floorCpu, floorCreated);

    // 3. Apply over AMQP.
    const { value: applyAmqp, cpu: applyAmqpCpu } = await measured('apply over AMQP', 90_000, () =>
      applyOverAmqp(stack, scaled(2000), 64, 'amqp'),
    );
    result.applyAmqp = {
      ...applyAmqp.figures,
      cpu: applyAmqpCpu,
      rawDbTransactionsPerSecond: rawDbPerSecond,
      ratioToRawDb: round(applyAmqp.perSecond / rawDbPerSecond, 3),
      goalRatio: GOALS.applyRatioToRawDb,
      meetsGoal: applyAmqp.perSecond / rawDbPerSecond >= GOALS.applyRatioToRawDb,
    };
    perOperation('apply over AMQP (per apply)', applyAmqpCpu, Number(applyAmqp.figures.created201));
    const closedAmqp = await phase('close the AMQP phase orders (unmeasured)', 90_000, () =>
      closeOrders(stack, applyAmqp.merchantOrderNos),
    );

    // 3b. Applies beside open cashier pages (issue 27.4): the same load without and with the streams.
    if (CASHIER_STREAMS > 0) {
      const { value: cashier, cpu: cashierCpu } = await measured(
        `apply over HTTP beside ${CASHIER_STREAMS} cashier streams`,
        120_000,
        () => applyBesideCashierStreams(stack, CASHIER_STREAMS, scaled(3000)),
      );
      const { merchantOrderNos, ...figures } = cashier;
      result.applyBesideCashierStreams = { ...figures, cpu: cashierCpu };
      await phase('close the cashier row orders (unmeasured)', 90_000, () =>
        closeOrders(stack, merchantOrderNos),
      );
    }

    // 4. The whole lifecycle.
    const maxRate = await measured('lifecycle at max rate', 120_000, () =>
      lifecycleMaxRate(stack, scaled(500), 64),
    );
    const steady = await measured('lifecycle at a steady 200/s (apply + pay)', 120_000, () =>
      lifecycleSteady(stack, 200, 10 * Math.min(1, SCALE)),
    );
    // Three windows, and the median of their p99s: one window's p99 moves with whatever else the
    // two cores did in those 10 s. The pays start after the poller's first two queries (3 s and
    // 13 s) of every attempt.
    const steadyPays: { value: Awaited<ReturnType<typeof lifecycleSteady>>; cpu: CpuReport }[] = [];
    for (let window = 1; window <= PAYS_ONLY_WINDOWS; window += 1)
      steadyPays.push(
        await measured(`lifecycle at a steady 200/s (pays only), window ${window}`, 120_000, () =>
          lifecycleSteady(stack, 200, 10 * Math.min(1, SCALE), {
            pollsDoneAfterMs: SERVICE_POLL_SCHEDULE[0]! + SERVICE_POLL_SCHEDULE[1]!,
          }),
        ),
      );
    const paysOnlyP99s = steadyPays.map((run) => run.value.callbackToNotified.p99Ms);
    const measuredP99s = paysOnlyP99s.filter((p99): p99 is number => p99 !== null);
    // A window with no payment notified has no p99: then there is no median to judge either.
    const paysOnlyMedianP99 = measuredP99s.length === paysOnlyP99s.length ? median(measuredP99s) : null;
    perOperation('lifecycle at max rate (per payment notified)', maxRate.cpu, Number(maxRate.value.notified));
    perOperation(
      'lifecycle at a steady 200/s (per payment notified)',
      steady.cpu,
      Number(steady.value.notified),
    );
    result.lifecycle = {
      what: 'apply → pay at the sandbox → callback → settled → notifier → order service; callbackToNotified = from the pay call returning to the order service accepting the payment-result',
      maxRate: { ...maxRate.value, cpu: maxRate.cpu },
      steady200PerSecond: { ...steady.value, cpu: steady.cpu },
      steady200PerSecondPaysOnly: {
        windows: steadyPays.map((run) => ({ ...run.value, cpu: run.cpu })),
        callbackToNotifiedP99OfEachWindowMs: paysOnlyP99s,
        medianP99Ms: paysOnlyMedianP99,
      },
      goalCallbackToNotifiedP99Ms: GOALS.callbackToNotifiedP99Ms,
      meetsGoalAtSteady200:
        steady.value.callbackToNotified.p99Ms !== null &&
        steady.value.callbackToNotified.p99Ms < GOALS.callbackToNotifiedP99Ms,
      meetsGoalAtSteady200PaysOnly:
        paysOnlyMedianP99 !== null && paysOnlyMedianP99 < GOALS.callbackToNotifiedP99Ms,
    };

    // 5. Double-click storm.
    const { value: storm, cpu: stormCpu } = await measured('double-click storm', 150_000, () =>
      doubleClickStorm(stack, scaled(1000), 10, 150),
    );
    result.doubleClickStorm = { ...storm.result, cpu: stormCpu };
    const closedStorm = await phase('close the storm orders (unmeasured)', 90_000, () =>
      closeOrders(stack, storm.merchantOrderNos),
    );

    // 6. The poller, on a short schedule of its own.
    await phase('replace the poller with one on a short schedule', 60_000, async () => {
      await stack.stopService(stack.service('poller'));
      await stack.spawn('poller', { POLL_SCHEDULE: POLLER_PHASE_SCHEDULE });
    });
    const dropped = await phase('dropped callback → PAID by polling', 60_000, () =>
      droppedCallbackToPaid(stack, 5, POLLER_PHASE_SCHEDULE),
    );
    const pollRate = await phase('poller throughput', 120_000, () =>
      pollerThroughput(stack, scaled(2000), 12_000, cpuGroups, POLLER_PHASE_SCHEDULE),
    );
    result.poller = {
      throughput: pollRate,
      droppedCallbackToPaid: {
        ...dropped,
        goalExcessMs: GOALS.droppedCallbackExcessMs,
        meetsGoal:
          dropped.maxExcessOverFirstStepMs !== null &&
          dropped.maxExcessOverFirstStepMs < GOALS.droppedCallbackExcessMs,
      },
    };

    // 7. Peak RSS of every service process (VmHWM), including instances replaced during the run.
    const peaks: Record<string, number | null> = {};
    for (const kind of SERVICE_KINDS) {
      const live = stack.running
        .filter((service) => service.kind === kind)
        .map((service) => peakRssMiB(service.pid) ?? 0);
      const peak = Math.max(stack.retiredPeakRss[kind] ?? 0, ...live);
      peaks[kind] = peak > 0 ? round(peak, 1) : null;
    }
    const memoryNow: Record<string, unknown> = {};
    for (const service of stack.running) memoryNow[service.kind] = await memoryOf(service.url);
    // 7-9. Apply over HTTP through each real provider's SDK, against its sandbox (its own process),
    // side by side with the sandbox PSP's applies above. Last, because Alipay's attempts stay in
    // flight until they expire (an unscanned Alipay trade cannot be closed), and their polls must
    // not load the phases above.
    const providerRows = [
      {
        key: 'applyHttpAlipay',
        channel: 'alipay-qr',
        label: 'ali',
        sandbox: 'sandboxAlipay',
        note: 'gateway CPU per apply includes RSA2 signing of the precreate and verification of the answer',
      },
      {
        key: 'applyHttpWechatpay',
        channel: 'wechat-native',
        label: 'wx',
        sandbox: 'sandboxWechatpay',
        note: 'gateway CPU per apply includes signing the order request and verifying the signed answer (RSA-SHA256 both)',
      },
      {
        key: 'applyHttpStripe',
        channel: 'stripe-card',
        label: 'st',
        sandbox: 'sandboxStripe',
        note: 'the stripe SDK builds and sends a form-encoded Checkout Session create per apply; no signatures either way (TLS is their proof, not run here)',
      },
    ] as const;
    const sandboxCreated = Number(applyHttp.figures.created201);
    for (const row of providerRows) {
      const { value: applied, cpu } = await measured(`apply over HTTP, ${row.channel}`, 90_000, () =>
        applyOverHttp(stack, scaled(500), 64, row.label, row.channel),
      );
      const created = Number(applied.figures.created201);
      perOperation(`apply over HTTP, ${row.channel} (per apply)`, cpu, created);
      result[row.key] = {
        ...applied.figures,
        cpu,
        gatewayCpuMsPerApply: msPer(cpu, 'payment-gateway', created),
        sandboxGatewayCpuMsPerApply: msPer(applyHttpCpu, 'payment-gateway', sandboxCreated),
        providerCpuMsPerApply: msPer(cpu, row.sandbox, created),
        ratioToSandboxApplies: round(applied.perSecond / applyHttp.perSecond, 3),
        note: `side by side with applyHttp in the same run; ${row.note}`,
      };
      await phase(`close the ${row.channel} phase orders (unmeasured)`, 90_000, () =>
        closeOrders(stack, applied.merchantOrderNos),
      );
    }

    result.cpuPerOperation = cpuPerOperation;
    printCpuTable(cpuPerOperation);
    result.peakRssMiB = {
      ...peaks,
      pollerBeforeRestart: stack.retiredPeakRss.poller ? round(stack.retiredPeakRss.poller, 1) : null,
      idleAfterStart: idleRss,
      atEndFromMetrics: memoryNow,
      benchProcess: round(process.resourceUsage().maxRSS / 1024, 1),
      note: 'VmHWM from /proc/<pid>/status at the end (idleAfterStart: VmRSS once ready); the poller figure is the largest of the poller processes (replaced twice for the poller phases); benchProcess holds the order service and the load generator',
      goalMiB: GOALS.peakRssMiB,
      allServicesUnderGoal: Object.values(peaks).every((peak) => peak !== null && peak < GOALS.peakRssMiB),
    };
    result.unmeasuredCleanupCloses = { applyHttp: closedHttp, applyAmqp: closedAmqp, storm: closedStorm };
  } catch (error) {
    failure = error as Error;
    result.error = failure.message;
    log(`failed: ${failure.stack ?? failure.message}`);
  }
  clearTimeout(watchdog);
  return finish(stack, result, began, failure ? 1 : 0);
}

/** The process's memory now, from its Prometheus default metrics (MiB). */
async function memoryOf(url: string): Promise<Record<string, number> | null> {
  const { text } = await httpText(`${url}/metrics`).catch(() => ({ text: '' }));
  const pick = (name: string) => {
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `));
    return line === undefined
      ? Number.NaN
      : round(Number(line.slice(line.lastIndexOf(' ') + 1)) / 1024 ** 2, 1);
  };
  if (!text) return null;
  return {
    rss: pick('process_resident_memory_bytes'),
    heapTotal: pick('nodejs_heap_size_total_bytes'),
    heapUsed: pick('nodejs_heap_size_used_bytes'),
    external: pick('nodejs_external_memory_bytes'),
  };
}

let finishing: Promise<number> | undefined;

/** Cleans up once, prints the JSON once, and exits. */
function finish(
  stack: BenchStack,
  result: Record<string, unknown>,
  began: number,
  code: number,
): Promise<number> {
  finishing ??= (async () => {
    log('cleaning up …');
    await stack.cleanup().catch((error: unknown) => log(`cleanup failed: ${(error as Error).message}`));
    closeHttpAgent();
    result.serviceLogWarnings = stack.logTally;
    result.totalSeconds = round((performance.now() - began) / 1000, 1);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.exit(code);
  })();
  return finishing;
}

void main();
