/** Double-click storm: many concurrent applies per order must still make exactly one attempt each. */
import { performance } from 'node:perf_hooks';
import { connectInUtc, databaseOptions } from '@payments/platform';
import { applyBody, applyHttp, latencyFields, orderNo } from './apply';
import { forEachBounded } from './pool';
import type { BenchStack } from './stack';
import { round, Tally } from './stats';

export async function doubleClickStorm(stack: BenchStack, orders: number, clicks: number, inFlight: number) {
  const merchantOrderNos = Array.from({ length: orders }, () => orderNo('storm'));
  const statuses = new Tally();
  const latencies: number[] = [];
  const attemptsSeen = new Map<string, Set<string>>();
  const started = performance.now();
  // Order-major: an order's clicks are issued back to back, so they overlap in flight.
  await forEachBounded(orders * clicks, inFlight, async (index) => {
    const merchantOrderNo = merchantOrderNos[Math.floor(index / clicks)]!;
    const began = performance.now();
    const answer = await applyHttp(stack.gatewayUrl, applyBody(merchantOrderNo, { amount: 4200 })).catch(
      () => undefined,
    );
    latencies.push(performance.now() - began);
    if (!answer) return statuses.add('networkError');
    const code = (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
    statuses.add(code ? `${answer.status} ${code}` : answer.status);
    const channelOrderNo = (answer.body as { attempt?: { channelOrderNo?: string } } | undefined)?.attempt
      ?.channelOrderNo;
    if (channelOrderNo) {
      const seen = attemptsSeen.get(merchantOrderNo) ?? new Set<string>();
      seen.add(channelOrderNo);
      attemptsSeen.set(merchantOrderNo, seen);
    }
  });
  const seconds = (performance.now() - started) / 1000;

  const { host, port, username, password, database } = databaseOptions(stack.env.config.DATABASE_URL);
  const db = await connectInUtc({ host, port, user: username, password, database });
  let attemptsInDatabase: number;
  let ordersWithMoreThanOneAttempt: number;
  try {
    const [[count]] = (await db.query(
      "SELECT COUNT(*) AS n FROM channel_order WHERE merchant_order_no LIKE 'storm-%'",
    )) as unknown as [{ n: number }[]];
    attemptsInDatabase = Number(count!.n);
    const [[multi]] = (await db.query(
      "SELECT COUNT(*) AS n FROM (SELECT merchant_order_no FROM channel_order WHERE merchant_order_no LIKE 'storm-%' GROUP BY merchant_order_no HAVING COUNT(*) > 1) AS t",
    )) as unknown as [{ n: number }[]];
    ordersWithMoreThanOneAttempt = Number(multi!.n);
  } finally {
    await db.end();
  }
  return {
    result: {
      orders,
      clicksPerOrder: clicks,
      requests: orders * clicks,
      inFlight,
      attemptsCreatedInDatabase: attemptsInDatabase,
      expectedAttempts: orders,
      exactlyOneAttemptPerOrder: attemptsInDatabase === orders && ordersWithMoreThanOneAttempt === 0,
      ordersWithMoreThanOneAttemptInDatabase: ordersWithMoreThanOneAttempt,
      ordersAnsweredWithMoreThanOneChannelOrderNo: [...attemptsSeen.values()].filter((seen) => seen.size > 1)
        .length,
      created201: statuses.get(201),
      reused200: statuses.get(200),
      paymentInProgress409: statuses.get('409 PAYMENT_IN_PROGRESS'),
      statuses: statuses.counts,
      seconds: round(seconds, 2),
      requestsPerSecond: round((orders * clicks) / seconds, 1),
      ...latencyFields(latencies),
    },
    merchantOrderNos,
  };
}
