/**
 * Applies over HTTP with and without open cashier streams (issue 27.4), side by side in one run:
 * the same apply load first with no cashier page open, then while `streams` pages hold their live
 * stream (two pages per order, so half as many orders). Past the gateway's bound
 * (CASHIER_STREAMS_MAX) a stream is refused with 429 and the page polls `/state` every 5 s
 * instead, which this does too, as the page's script would.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { AUTH, applyOverHttp, orderNo } from './apply';
import { httpJson, httpText } from './http';
import { forEachBounded } from './pool';
import type { BenchStack } from './stack';
import { round, Tally } from './stats';

const PAGES_PER_ORDER = 2;
const FALLBACK_POLL_MS = 5000;

/** One socket per stream, as each shopper's browser holds its own. */
const streamAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

interface OpenStream {
  status: number;
  close(): void;
}

function openStream(url: string): Promise<OpenStream> {
  return new Promise((resolve) => {
    const request = http.get(`${url}/events`, { agent: streamAgent }, (response) => {
      response.on('data', () => undefined);
      response.on('error', () => undefined);
      if (response.statusCode !== 200) response.resume();
      resolve({ status: response.statusCode ?? 0, close: () => request.destroy() });
    });
    request.on('error', () => resolve({ status: 0, close: () => undefined }));
  });
}

/** The value of one counter or gauge on the gateway's /metrics. */
async function metric(gatewayUrl: string, name: string): Promise<number> {
  const { text } = await httpText(`${gatewayUrl}/metrics`).catch(() => ({ text: '' }));
  const line = text.split('\n').find((candidate) => new RegExp(`^${name}[ {]`).test(candidate));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export async function applyBesideCashierStreams(stack: BenchStack, streams: number, applies: number) {
  const gatewayUrl = stack.gatewayUrl;
  // The pages: a checkout per page (each its own token), two per order.
  const pages: string[] = [];
  const orders = Math.ceil(streams / PAGES_PER_ORDER);
  await forEachBounded(orders, 32, async () => {
    const merchantOrderNo = orderNo('cashier');
    for (let page = 0; page < PAGES_PER_ORDER; page += 1) {
      const answer = await httpJson(
        'POST',
        `${gatewayUrl}/v1/checkout`,
        {
          merchantOrderNo,
          amount: 1999,
          currency: 'CNY',
          subject: 'Bench order',
          returnUrl: 'https://shop.example/back',
          channels: ['sandbox-qr'],
        },
        AUTH,
      );
      if (answer.status === 201 || answer.status === 200) pages.push((answer.body as { url: string }).url);
    }
  });

  const without = await applyOverHttp(stack, applies, 64, 'nostreams');

  const statuses = new Tally();
  const held: OpenStream[] = [];
  const polled = new Tally();
  const pollers: NodeJS.Timeout[] = [];
  await forEachBounded(pages.length, 64, async (index) => {
    const page = pages[index]!;
    const stream = await openStream(page);
    statuses.add(stream.status);
    if (stream.status === 200) held.push(stream);
    else
      pollers.push(
        setInterval(() => {
          void httpJson('GET', `${page}/state`).then(
            (answer) => polled.add(answer.status),
            () => polled.add('networkError'),
          );
        }, FALLBACK_POLL_MS),
      );
  });
  // Let every stream's first state and the first round of fallback polls go by.
  await new Promise((resolve) => setTimeout(resolve, FALLBACK_POLL_MS + 500));
  const queriesBefore = await metric(gatewayUrl, 'cashier_order_queries_total');
  const openOnGateway = await metric(gatewayUrl, 'cashier_streams_open');
  const began = performance.now();
  const withStreams = await applyOverHttp(stack, applies, 64, 'withstreams');
  const seconds = (performance.now() - began) / 1000;
  const queriesDuring = (await metric(gatewayUrl, 'cashier_order_queries_total')) - queriesBefore;
  for (const poller of pollers) clearInterval(poller);
  for (const stream of held) stream.close();

  return {
    what: `apply over HTTP (64 clients) with no cashier page open, then while ${streams} pages (${PAGES_PER_ORDER} per order, ${orders} orders) ask for their live stream; refused streams poll /state every ${FALLBACK_POLL_MS / 1000} s as the page does`,
    streamsAsked: pages.length,
    streamStatuses: statuses.counts,
    streamsOpenOnGateway: openOnGateway,
    fallbackPollStatuses: polled.counts,
    cashierQueriesPerSecondDuringApplies: round(queriesDuring / seconds, 1),
    withoutStreams: without.figures,
    withStreams: withStreams.figures,
    appliesPerSecondRatio: round(withStreams.perSecond / without.perSecond, 3),
    merchantOrderNos: [...without.merchantOrderNos, ...withStreams.merchantOrderNos],
  };
}
