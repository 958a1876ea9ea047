import { formatDuration, loadConfig } from '@payments/platform';

/** The bench's knobs (BENCH_SCALE, BENCH_CASHIER_STREAMS), the services' settings and the goals judged. */
export const SCALE = Number(process.env.BENCH_SCALE ?? '1');
export const CASHIER_STREAMS = Number(process.env.BENCH_CASHIER_STREAMS ?? '2000');
export const scaled = (n: number) =>
  Math.max(1, Math.round(n * (Number.isFinite(SCALE) && SCALE > 0 ? SCALE : 1)));

/**
 * The whole run must end inside five minutes (issue 32.5); this is the hard stop if something
 * hangs (then the cleanup, a few seconds, and the JSON so far). BENCH_WATCHDOG_S lengthens it, to
 * see how long every phase of a run that does not fit takes.
 */
export const WATCHDOG_MS =
  Number(process.env.BENCH_WATCHDOG_S ?? '300') * 1000 +
  (Number(process.env.BENCH_RECON_LINES ?? '0') > 0 ? 1_200_000 : 0);

/**
 * The services run with the contract's default POLL_SCHEDULE (3s,10s,30s,3m,…), as a merchant
 * runs them: a shorter one multiplies the queries of every unpaid attempt in the load phases
 * (1s,2s,5s, used here before, queries each ~4 times in the first 10 s against once). The poller
 * phases start their own poller on POLLER_PHASE_SCHEDULE, so they finish in seconds.
 */
export const POLLER_PHASE_SCHEDULE = '1s,2s,5s';

export const SERVICE_POLL_SCHEDULE = loadConfig({}).POLL_SCHEDULE;

export const SETTINGS: Record<string, string> = {
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

/**
 * The pays-only lifecycle runs this many windows of PAYS_ONLY_WINDOW_S at 200/s (1,200 pays each);
 * the goal is judged on their median p99.
 */
export const PAYS_ONLY_WINDOWS = 3;
export const PAYS_ONLY_WINDOW_S = 6;

export const GOALS = {
  applyRatioToRawDb: 0.3,
  callbackToNotifiedP99Ms: 50,
  droppedCallbackExcessMs: 100,
  peakRssMiB: 150,
};

/**
 * The reconciliation row (issue 29.4): the lines of its statement and as many attempts of ours
 * (BENCH_RECON_LINES, e.g. 1000000; unset or 0 skips the row: seeding a million attempts and
 * reconciling them takes minutes, past the five minutes of the rest of the run, whose watchdog
 * is lengthened by the row's own limit when it runs), and its goals.
 */
export const RECON_LINES = Number(process.env.BENCH_RECON_LINES ?? '0');
export const RECON_ROW_LIMIT_MS = 1_200_000;
export const GOALS_RECON = { peakRssMiB: 200, ratioToRaw: 0.5, linesPerSecond: 50_000 };
