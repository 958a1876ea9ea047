/**
 * The whole lifecycle: apply → the shopper pays at the sandbox → its callback → settlement →
 * outbox → notifier → the order service. Delivery times come from the order service's hook.
 */
import { performance } from 'node:perf_hooks';
import { connectInUtc, databaseOptions } from '@payments/platform';
import { applyBody, applyHttp, latencyFields, orderNo, payAtPsp } from './apply';
import { forEachBounded, sleep } from './pool';
import type { BenchStack } from './stack';
import { round, summarize, Tally } from './stats';

const NOTIFY_WAIT_MS = 60_000;

interface Paid {
  merchantOrderNo: string;
  channelOrderNo: string;
  paidAt: number;
}

/** Apply then pay one order; the moment the pay call returned, or undefined if a step failed. */
async function applyAndPay(
  stack: BenchStack,
  merchantOrderNo: string,
  statuses: Tally,
  applyLatencies?: number[],
): Promise<Paid | undefined> {
  const began = performance.now();
  const applied = await applyHttp(stack.gatewayUrl, applyBody(merchantOrderNo)).catch(() => undefined);
  applyLatencies?.push(performance.now() - began);
  if (!applied || applied.status !== 201) {
    statuses.add(`apply ${applied?.status ?? 'networkError'}`);
    return undefined;
  }
  return pay(stack, merchantOrderNo, applied.body.attempt.channelOrderNo as string, statuses);
}

async function pay(
  stack: BenchStack,
  merchantOrderNo: string,
  channelOrderNo: string,
  statuses: Tally,
): Promise<Paid | undefined> {
  const paid = await payAtPsp(stack.pspUrl, channelOrderNo).catch(() => undefined);
  const paidAt = performance.now();
  if (!paid || paid.status !== 200) {
    statuses.add(`pay ${paid?.status ?? 'networkError'}`);
    return undefined;
  }
  statuses.add('paid');
  return { merchantOrderNo, channelOrderNo, paidAt };
}

/** Callback-to-notified latencies of the paid orders that were notified. */
function notifyLatencies(stack: BenchStack, paid: readonly Paid[]): number[] {
  return paid
    .map((entry) => (stack.notifiedAt.get(entry.merchantOrderNo) ?? Number.NaN) - entry.paidAt)
    .filter((latency) => Number.isFinite(latency));
}

/**
 * Where the callback-to-notified time goes, from the bench database's own timestamps (server clock,
 * same host as ours): the settlement writing payment.succeeded to the outbox (the callback's
 * transaction), the relay marking it sent, and the order service accepting the delivery.
 */
async function pathBreakdown(stack: BenchStack, paid: readonly Paid[]) {
  if (paid.length === 0) return null;
  const { host, port, username, password, database } = databaseOptions(stack.env.config.DATABASE_URL);
  const db = await connectInUtc({ host, port, user: username, password, database });
  try {
    const [events] = (await db.query(
      "SELECT JSON_VALUE(payload, '$.data.merchantOrderNo') AS m, UNIX_TIMESTAMP(created_at) * 1000 AS w, UNIX_TIMESTAMP(sent_at) * 1000 AS s FROM outbox WHERE event_type = 'payment.succeeded'",
    )) as unknown as [{ m: string; w: string; s: string | null }[]];
    const eventAt = new Map(
      events.map((row) => [row.m, { written: Number(row.w), sent: row.s === null ? NaN : Number(row.s) }]),
    );
    const epoch = (t: number) => performance.timeOrigin + t;
    const segments = {
      payReturnedToEventWritten: [] as number[],
      eventWrittenToMarkedSent: [] as number[],
      eventWrittenToNotified: [] as number[],
    };
    for (const entry of paid) {
      const event = eventAt.get(entry.merchantOrderNo);
      const notified = stack.notifiedAt.get(entry.merchantOrderNo);
      if (event === undefined || notified === undefined) continue;
      segments.payReturnedToEventWritten.push(event.written - epoch(entry.paidAt));
      if (Number.isFinite(event.sent)) segments.eventWrittenToMarkedSent.push(event.sent - event.written);
      segments.eventWrittenToNotified.push(epoch(notified) - event.written);
    }
    const brief = (values: number[]) => {
      const { samples, p50Ms, p99Ms, maxMs } = summarize(values);
      return { samples, p50Ms, p99Ms, maxMs };
    };
    return {
      note: 'outbox timestamps (1 ms resolution): written = in the settling transaction of the callback; marked sent = after the broker confirmed the publish and the relay updated the row (the notifier may already have the message). payReturnedToEventWritten covers the PSP sending its notify and the gateway verifying and settling it',
      payReturnedToEventWritten: brief(segments.payReturnedToEventWritten),
      eventWrittenToMarkedSent: brief(segments.eventWrittenToMarkedSent),
      eventWrittenToNotified: brief(segments.eventWrittenToNotified),
    };
  } finally {
    await db.end();
  }
}

/**
 * `payments` lifecycles as fast as `concurrency` clients go; rate = notified ÷ (last notify − start).
 * `paidOut`, if given, receives the orders paid (the caller's, to look them up elsewhere).
 */
export async function lifecycleMaxRate(
  stack: BenchStack,
  payments: number,
  concurrency: number,
  paidOut?: { merchantOrderNo: string; channelOrderNo: string }[],
) {
  const statuses = new Tally();
  const paid: Paid[] = [];
  const started = performance.now();
  await forEachBounded(payments, concurrency, async () => {
    const result = await applyAndPay(stack, orderNo('life'), statuses);
    if (result) paid.push(result);
  });
  const applyPayDone = performance.now();
  paidOut?.push(...paid.map(({ merchantOrderNo, channelOrderNo }) => ({ merchantOrderNo, channelOrderNo })));
  const missing = await stack.waitNotified(
    paid.map((entry) => entry.merchantOrderNo),
    NOTIFY_WAIT_MS,
  );
  const notified = paid.length - missing.length;
  const lastNotified = Math.max(
    ...paid.map((entry) => stack.notifiedAt.get(entry.merchantOrderNo) ?? Number.NEGATIVE_INFINITY),
  );
  const seconds = (lastNotified - started) / 1000;
  return {
    payments,
    concurrency,
    notified,
    notNotifiedWithin60s: missing.length,
    outcomes: statuses.counts,
    applyAndPaySeconds: round((applyPayDone - started) / 1000, 2),
    secondsUntilLastNotified: round(seconds, 2),
    paymentsPerSecond: round(notified / seconds, 1),
    callbackToNotified: summarize(notifyLatencies(stack, paid)),
    whereTheTimeGoes: await pathBreakdown(stack, paid),
  };
}

/**
 * Payments started at a steady `rate` per second for `seconds` (open loop: a slow system does not
 * slow the arrivals, up to `maxInFlight`). Otherwise each arrival is apply then pay; with
 * `precreate`, the attempts are made first (as fast as 64 clients go) and only the pays arrive at
 * the rate, once the poller's first queries of those attempts (due `precreate.pollsDoneAfterMs`
 * after each was created) are done: its queue empty. Made in a burst, all unpaid, those queries
 * would come at the burst's rate, about twice the rate measured here, on top of it; a steady 200
 * payments/s has its applies and their queries at 200/s, which this machine cannot fit beside the
 * pays (the apply + pay mode). They are paid in the order they were made, each before its next
 * query is due (`precreate.paidBeforeMs` after it was made), so the poller's next wave comes after
 * the window and finds them paid; `paidAfterNextQueryDue` counts any that were not (then the
 * window had some of those queries inside).
 */
export async function lifecycleSteady(
  stack: BenchStack,
  rate: number,
  seconds: number,
  precreate?: { pollsDoneAfterMs: number; paidBeforeMs: number },
  maxInFlight = 400,
) {
  const count = Math.round(rate * seconds);
  const statuses = new Tally();
  const applyLatencies: number[] = [];
  const payLatencies: number[] = [];
  const paid: Paid[] = [];
  const attempts: { merchantOrderNo: string; channelOrderNo: string; createdAt: number }[] = [];
  let paidAfterNextQueryDue = 0;
  let waitedForPollerMs: number | undefined;
  if (precreate) {
    await forEachBounded(count, 64, async () => {
      const merchantOrderNo = orderNo('steadyp');
      const applied = await applyHttp(stack.gatewayUrl, applyBody(merchantOrderNo)).catch(() => undefined);
      if (applied?.status === 201)
        attempts.push({
          merchantOrderNo,
          channelOrderNo: applied.body.attempt.channelOrderNo as string,
          createdAt: performance.now(),
        });
    });
    attempts.sort((a, b) => a.createdAt - b.createdAt);
    await sleep(precreate.pollsDoneAfterMs);
    // Those queries are due by now; the poller may still be working through them (and through
    // earlier phases' later steps, due at the same time).
    waitedForPollerMs = await stack.waitPollerIdle(15_000);
  }
  const arrivals = precreate ? attempts.length : count;
  const intervalMs = 1000 / rate;
  let inFlight = 0;
  let lateStarts = 0;
  const tasks: Promise<void>[] = [];
  const started = performance.now();
  for (let index = 0; index < arrivals; index += 1) {
    const due = started + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    else if (wait < -intervalMs) lateStarts += 1;
    while (inFlight >= maxInFlight) await sleep(1);
    inFlight += 1;
    const task = async () => {
      try {
        if (precreate) {
          const attempt = attempts[index]!;
          const began = performance.now();
          if (began > attempt.createdAt + precreate.paidBeforeMs) paidAfterNextQueryDue += 1;
          const result = await pay(stack, attempt.merchantOrderNo, attempt.channelOrderNo, statuses);
          payLatencies.push(performance.now() - began);
          if (result) paid.push(result);
        } else {
          const result = await applyAndPay(stack, orderNo('steady'), statuses, applyLatencies);
          if (result) paid.push(result);
        }
      } finally {
        inFlight -= 1;
      }
    };
    tasks.push(task());
  }
  const lastArrival = performance.now();
  await Promise.all(tasks);
  const missing = await stack.waitNotified(
    paid.map((entry) => entry.merchantOrderNo),
    NOTIFY_WAIT_MS,
  );
  const achieved = arrivals / ((lastArrival - started) / 1000);
  return {
    mode: precreate
      ? `attempts created beforehand; only the pays arrive at the rate, once the poller's first queries of them are done (${precreate.pollsDoneAfterMs} ms after the last was created, then its queue empty)`
      : 'each arrival applies then pays',
    ...(waitedForPollerMs === undefined
      ? {}
      : { waitedForPollerQueueMs: waitedForPollerMs, paidAfterNextQueryDue }),
    targetPerSecond: rate,
    achievedArrivalsPerSecond: round(achieved, 1),
    arrivals,
    arrivalsStartedLate: lateStarts,
    notified: paid.length - missing.length,
    notNotifiedWithin60s: missing.length,
    outcomes: statuses.counts,
    ...(precreate ? { payCall: latencyFields(payLatencies) } : { apply: latencyFields(applyLatencies) }),
    callbackToNotified: summarize(notifyLatencies(stack, paid)),
    callbackToNotifiedP99BySecond: p99BySecond(stack, paid, started),
    whereTheTimeGoes: await pathBreakdown(stack, paid),
  };
}

/** The p99 of the payments paid in each second of the window: where in it the slow ones were. */
function p99BySecond(stack: BenchStack, paid: readonly Paid[], started: number): (number | null)[] {
  const seconds: Paid[][] = [];
  for (const entry of paid) (seconds[Math.floor((entry.paidAt - started) / 1000)] ??= []).push(entry);
  return Array.from(seconds, (inSecond) => summarize(notifyLatencies(stack, inSecond ?? [])).p99Ms);
}
