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
 * BENCH_RECON_LINES (default 0: skipped) is the size of the reconciliation row's statement and of
 * the attempts it is matched with, e.g. 1000000.
 * BENCH_NODE_ARGS adds node options to the services, after their heap options (so it can override
 * them), e.g. `--max-semi-space-size=16 --max-old-space-size=4096` for V8's defaults here.
 */
import { performance } from 'node:perf_hooks';
import { closeHttpAgent } from './bench/http';
import { Measure, printCpuTable } from './bench/measure';
import { machine, memoryOf, peakRssOfServices } from './bench/memory';
import {
  measureApplyAmqp,
  measureApplyHttp,
  measureCashierRow,
  measureFloor,
  warmUp,
} from './bench/rows/apply';
import { measureRawCeilings } from './bench/rows/ceilings';
import type { RowContext } from './bench/rows/context';
import { measureLifecycle } from './bench/rows/lifecycle';
import { issue32Summary } from './bench/rows/pipeline';
import { measurePoller } from './bench/rows/poller';
import { measureProviders } from './bench/rows/providers';
import { measureReconciliation } from './bench/rows/reconciliation';
import { measureStorm } from './bench/rows/storm';
import { GOALS, POLLER_PHASE_SCHEDULE, SCALE, SETTINGS, WATCHDOG_MS } from './bench/settings';
import { rssMiB } from './bench/processes';
import { BenchStack, log } from './bench/stack';
import { round } from './bench/stats';

/** The rows in order (each in bench/rows/), one isolated stack, one JSON object at the end. */
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

  const m = new Measure(stack);
  const rows: RowContext = { stack, m, result };
  // Printed even if the watchdog stops the run: how long each phase took.
  result.phaseSeconds = m.phaseSeconds;

  try {
    await m.phase('start sandboxes, prefix and database', 60_000, () => stack.start());
    const config = stack.env.config;
    result.settings = {
      ...SETTINGS,
      POLL_SCHEDULE: `${SETTINGS.POLL_SCHEDULE} (the default); the poller phases: ${POLLER_PHASE_SCHEDULE}`,
      topologyPrefix: config.TOPOLOGY_PREFIX,
      scale: SCALE,
      note: 'the example order service and the load generator share the bench process; the sandbox PSP runs as its own process (all share the 2 CPUs with the four services, RabbitMQ, Redis and MariaDB)',
    };

    // 1. Raw ceilings, before the services open their pools.
    const rawDbPerSecond = await measureRawCeilings(rows, config);

    await m.phase('start the four services', 120_000, () => stack.startServices());
    const idleRss = Object.fromEntries(
      stack.running.map((service) => [service.kind, round(rssMiB(service.pid) ?? 0, 1)]),
    );
    await warmUp(rows);

    // 2. Apply over HTTP. 3. Apply over AMQP.
    const { applyHttp, applyHttpCpu, closed: closedHttp } = await measureApplyHttp(rows, rawDbPerSecond);
    const closedAmqp = await measureApplyAmqp(rows, rawDbPerSecond);
    // 2b. The floor, once the services are quiet after them (one wait for the two rows' work, and
    // the lifecycle after it finds them quiet: the floor uses none of the services).
    const floorApply = await measureFloor(rows, applyHttp, applyHttpCpu);
    // 4. The whole lifecycle (with issue 32's window around its max rate, the payments settled by
    // polling and the delivery floor). 5. Double-click storm. 6. The poller, on a short schedule of its own.
    await measureLifecycle(rows, floorApply);
    const closedStorm = await measureStorm(rows);
    await measurePoller(rows);
    // 3b. Applies beside open cashier pages: late, where no quiet wait follows (its closes' poll
    // steps would otherwise hold the floor's wait for the 30 s tier).
    await measureCashierRow(rows);

    // 7. Peak RSS of every service process, read before the provider rows (which start nothing).
    const peaks = peakRssOfServices(stack);
    const memoryNow: Record<string, unknown> = {};
    for (const service of stack.running) memoryNow[service.kind] = await memoryOf(service.url);
    // 7-9. Apply over HTTP through each real provider's SDK, against its sandbox.
    await measureProviders(rows, applyHttp, applyHttpCpu);
    // 10. Reconciliation of a statement of BENCH_RECON_LINES lines (skipped unless set).
    await measureReconciliation(rows);

    result.issue32 = issue32Summary(result);
    result.cpuPerOperation = m.cpuPerOperation;
    printCpuTable(m.cpuPerOperation);
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
