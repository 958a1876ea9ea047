/**
 * The poller: how many provider queries one poller process sustains, and how long a payment whose
 * callback was dropped takes to become PAID through polling.
 */
import { performance } from 'node:perf_hooks';
import amqplib from 'amqplib';
import { parseSchedule, topologyFor } from '@payments/platform';
import { CpuMeter, type CpuReport } from './cpu';
import { AUTH, applyBody, applyHttp, orderNo, payAtPsp } from './apply';
import { httpJson, httpText } from './http';
import { forEachBounded, sleep } from './pool';
import type { BenchStack } from './stack';
import { median, round, summarize, Tally } from './stats';

/** Sum of `poll_queries_total` over its labels, from the poller's /metrics. */
async function pollQueries(metricsUrl: string): Promise<number> {
  const { text } = await httpText(`${metricsUrl}/metrics`);
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('poll_queries_total')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

/**
 * With every notify dropped: apply, pay, then read GET /v1/payments/:no every 10 ms until PAID.
 * Samples run one after another on an otherwise quiet system.
 */
export async function droppedCallbackToPaid(stack: BenchStack, samples: number, pollSchedule: string) {
  const firstStepMs = parseSchedule(pollSchedule)[0]!;
  await stack.setPspFaults({ dropNotifyRate: 1 });
  const fromPay: number[] = [];
  const fromApply: number[] = [];
  const failures = new Tally();
  for (let sample = 0; sample < samples; sample += 1) {
    const merchantOrderNo = orderNo('dropped');
    const applied = await applyHttp(stack.gatewayUrl, applyBody(merchantOrderNo));
    const appliedAt = performance.now();
    if (applied.status !== 201) {
      failures.add(`apply ${applied.status}`);
      continue;
    }
    const paid = await payAtPsp(stack.pspUrl, applied.body.attempt.channelOrderNo as string);
    const paidAt = performance.now();
    if (paid.status !== 200) {
      failures.add(`pay ${paid.status}`);
      continue;
    }
    const deadline = paidAt + firstStepMs + 15_000;
    let settled = false;
    while (performance.now() < deadline) {
      const view = await httpJson(
        'GET',
        `${stack.gatewayUrl}/v1/payments/${encodeURIComponent(merchantOrderNo)}`,
        undefined,
        AUTH,
      );
      if (view.body?.status === 'PAID') {
        const now = performance.now();
        fromPay.push(now - paidAt);
        fromApply.push(now - appliedAt);
        settled = true;
        break;
      }
      await sleep(10);
    }
    if (!settled) failures.add('not PAID in time');
    await sleep(200);
  }
  const medianFromPay = median(fromPay);
  return {
    what: 'PSP drops every notify; time from the pay call returning to GET /v1/payments showing PAID (read every 10 ms)',
    samples,
    firstPollStepMs: firstStepMs,
    payToPaid: summarize(fromPay),
    applyToPaid: summarize(fromApply),
    medianExcessOverFirstStepMs: medianFromPay === null ? null : round(medianFromPay - firstStepMs, 1),
    maxExcessOverFirstStepMs: fromPay.length === 0 ? null : round(Math.max(...fromPay) - firstStepMs, 1),
    failures: failures.counts,
  };
}

/**
 * `attempts` unpaid attempts (notifies dropped) are created while no poller runs; then one fresh
 * poller starts and finds them all due at about the same moment. Its query rate while that backlog
 * lasts is its capacity; the window then shows the rate the schedule asks for.
 */
export async function pollerThroughput(
  stack: BenchStack,
  attempts: number,
  windowMs: number,
  cpuGroups: () => Record<string, number[]>,
  pollSchedule: string,
) {
  await stack.setPspFaults({ dropNotifyRate: 1 });
  await stack.stopService(stack.service('poller'));
  const created = new Tally();
  const createStarted = performance.now();
  await forEachBounded(attempts, 64, async () => {
    const answer = await applyHttp(stack.gatewayUrl, applyBody(orderNo('poll'))).catch(() => undefined);
    created.add(answer?.status ?? 'networkError');
  });
  const createSeconds = (performance.now() - createStarted) / 1000;
  await sleep(500); // the outbox relay publishes the last created events

  const poller = await stack.spawn('poller', { POLL_SCHEDULE: pollSchedule });
  const queue = topologyFor(stack.env.config).queue('pollerAttempts');
  const connection = await amqplib.connect(stack.env.config.AMQP_URL);
  const samples: { at: number; queries: number; ready: number }[] = [];
  const meter = new CpuMeter(cpuGroups()).start();
  let cpu: CpuReport;
  try {
    const channel = await connection.createChannel();
    const start = performance.now();
    while (performance.now() - start < windowMs) {
      const [queries, depth] = await Promise.all([
        pollQueries(poller.url),
        channel.checkQueue(queue).then((state) => state.messageCount),
      ]);
      samples.push({ at: performance.now(), queries, ready: depth });
      await sleep(200);
    }
  } finally {
    cpu = meter.stop();
    await connection.close().catch(() => undefined);
  }

  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const firstQuery = samples.find((sample) => sample.queries > 0);
  const roundDone = samples.find((sample) => sample.queries >= created.get(201));
  let peak = 0;
  for (let i = 0; i < samples.length; i += 1) {
    const later = samples.find((sample) => sample.at - samples[i]!.at >= 1000);
    if (later)
      peak = Math.max(peak, (later.queries - samples[i]!.queries) / ((later.at - samples[i]!.at) / 1000));
  }
  const firstRoundSeconds =
    firstQuery && roundDone && roundDone !== firstQuery ? (roundDone.at - firstQuery.at) / 1000 : undefined;
  return {
    what: 'one poller process, the sandbox PSP in its own process; attempts created while no poller ran, then a fresh poller started',
    attemptsCreated: created.get(201),
    createStatuses: created.counts,
    createSeconds: round(createSeconds, 2),
    pollSchedule,
    windowSeconds: round((last.at - first.at) / 1000, 2),
    queriesInWindow: last.queries - first.queries,
    averageQueriesPerSecond: round((last.queries - first.queries) / ((last.at - first.at) / 1000), 1),
    peakQueriesPerSecond1sWindow: round(peak, 1),
    firstRound: firstRoundSeconds
      ? {
          queries: roundDone!.queries - firstQuery!.queries,
          seconds: round(firstRoundSeconds, 2),
          queriesPerSecond: round((roundDone!.queries - firstQuery!.queries) / firstRoundSeconds, 1),
        }
      : null,
    maxMessagesWaitingInPollerQueue: Math.max(...samples.map((sample) => sample.ready)),
    cpuDuringWindow: cpu,
  };
}
