/**
 * `npm run demo`: drives a realistic mix of orders through the public interfaces (double clicks,
 * channel switches, a voucher paid after a wallet, Alipay QR and a late-opened Alipay page, WeChat
 * Pay Native, the seeds' two-wallet case (WeChat Pay opened, Alipay paid, WeChat Pay paid too),
 * Stripe cards, Paulo's case (a Boleto voucher, the order paid by card, the voucher paid too: the
 * voucher, which Stripe cannot refund, is kept and the card refunded; a refund owed by hand only
 * where nothing refundable can be given back instead, which the demo settles as an operator would),
 * dropped callbacks, an order cancelled and then paid, a 10-second order-service outage, and one
 * payment whose callback and every poll are lost, found by the day's reconciliation), then
 * reports what happened and checks the money invariants of CONTRACT 8 for every order, across
 * every sandbox's ledger. Exits non-zero if any fails.
 *
 * Uses the stack at the configured URLs if it answers; otherwise starts one (with short schedules)
 * for the length of the demo.
 */
import type { ChildProcess } from 'node:child_process';
import { SingleBar } from 'cli-progress';
import { listDlqs, topologyFor } from '@payments/platform';
import { demoConfig, gatewayUrl, say, stackAnswers, startOwnStack, wechatpayUrl } from './demo/stack';
import { makeHiddenPayment, reconcileToday, showAgain, waitUntilGivenUp } from './demo/found-by-statement';
import { checkOrders, paymentOf, waitUntilQuiet, type Endpoints } from './lib/invariants';
import { settleOwedByHand } from './lib/manual-refunds';
import { stopAll } from './lib/processes';
import { SCENARIOS, TrafficDriver, type Scenario, type TrafficResult } from './lib/traffic';

const ORDERS = Number(process.env.DEMO_ORDERS ?? 300);
const CONCURRENCY = 8;
async function metric(url: string, name: string, labels = ''): Promise<number> {
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith(name) && line.includes(labels))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  } catch {
    return 0;
  }
}

async function put(url: string, body: unknown): Promise<void> {
  await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  let { config } = demoConfig(process.env);
  let children: ChildProcess[] = [];
  if (await stackAnswers(config)) {
    say('Using the running stack at the configured URLs.');
  } else {
    ({ config, children } = await startOwnStack(config));
  }
  const endpoints: Endpoints = {
    gatewayUrl: gatewayUrl(config),
    apiKey: config.API_KEYS[0]!,
    pspUrl: config.PSP_BASE_URL,
    otherSandboxUrls: [config.ALIPAY_ENDPOINT, wechatpayUrl(config), config.STRIPE_API_BASE],
    orderServiceUrl: config.ORDER_SERVICE_URL,
  };
  const label = `demo${Date.now().toString(36)}`;
  const driver = new TrafficDriver({
    ...endpoints,
    amqpUrl: config.AMQP_URL,
    commandsExchange: topologyFor(config).exchange('commands'),
    alipayUrl: config.ALIPAY_ENDPOINT,
    wechatpayUrl: wechatpayUrl(config),
    stripeUrl: config.STRIPE_API_BASE,
    abandonAfterMs: 5000,
    expireAfterMs: 60_000,
    label,
  });
  const dlqDepthNow = async () =>
    (await listDlqs(config.AMQP_URL, topologyFor(config))).reduce((sum, dlq) => sum + (dlq.messages ?? 0), 0);
  // A shared stack may hold dead letters from before: the demo answers only for its own.
  const dlqDepthBefore = await dlqDepthNow();
  const before = {
    settledByPolling: await metric(
      'http://127.0.0.1:9102/metrics',
      'payments_settled_total',
      'outcome="PAID"',
    ),
    notifyRetries: await metric('http://127.0.0.1:9103/metrics', 'notifications_total', 'result="retry"'),
  };

  const results: TrafficResult[] = [];
  say(
    `Driving ${ORDERS} orders (${SCENARIOS.join(', ')}), a third of callbacks dropped, WeChat Pay's close failing, one 10 s order-service outage…`,
  );
  const bar = new SingleBar(
    { format: ' orders [{bar}] {value}/{total} | {phase}', hideCursor: true },
    undefined,
  );
  // The hidden loss first: its attempt is given up here while the traffic runs.
  const hidden = await makeHiddenPayment(endpoints, label);
  bar.start(ORDERS, 0, { phase: 'driving' });
  await put(`${config.PSP_BASE_URL}/sandbox/faults`, { dropNotifyRate: 0.33 });
  await put(`${config.ALIPAY_ENDPOINT}/sandbox/faults`, { dropNotifyRate: 0.33 });
  // While the orders are driven WeChat Pay's close fails, so every two-wallet shopper pays twice.
  await put(`${wechatpayUrl(config)}/sandbox/faults`, { dropNotifyRate: 0.33, closeErrorRate: 1 });
  await put(`${config.STRIPE_API_BASE}/sandbox/faults`, { dropNotifyRate: 0.33 });
  let next = 0;
  let outage: Promise<void> | undefined;
  const worker = async () => {
    while (next < ORDERS) {
      const index = next++;
      if (index === Math.floor(ORDERS / 3)) {
        outage = (async () => {
          bar.update({ phase: 'order service DOWN for 10 s' });
          await put(`${config.ORDER_SERVICE_URL}/sandbox/faults`, { down: true });
          await new Promise((resolve) => setTimeout(resolve, 10_000));
          await fetch(`${config.ORDER_SERVICE_URL}/sandbox/faults`, { method: 'DELETE' });
          bar.update({ phase: 'driving' });
        })();
      }
      const scenario: Scenario = SCENARIOS[index % SCENARIOS.length]!;
      results.push(
        await driver.run(scenario).catch((error: unknown) => ({
          merchantOrderNo: '',
          scenario,
          paid: false,
          errors: [(error as Error).message],
        })),
      );
      bar.increment();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await outage;
  // Resetting the PSP's faults shows hidden trades again: first our side must have given it up.
  bar.update({ phase: 'waiting for the hidden payment to be given up here' });
  const givenUp = await waitUntilGivenUp(endpoints, hidden);
  await fetch(`${config.PSP_BASE_URL}/sandbox/faults`, { method: 'DELETE' });
  await fetch(`${config.ALIPAY_ENDPOINT}/sandbox/faults`, { method: 'DELETE' });
  await fetch(`${wechatpayUrl(config)}/sandbox/faults`, { method: 'DELETE' });
  await fetch(`${config.STRIPE_API_BASE}/sandbox/faults`, { method: 'DELETE' });
  await driver.close();
  bar.stop();
  // The day's reconciliation, as an operator runs it: the PSP's statement has the payment.
  await showAgain(endpoints, hidden);
  const recon = await reconcileToday(demoConfig(process.env).env, hidden);

  const orders = [
    ...results.filter((result) => result.merchantOrderNo).map((result) => result.merchantOrderNo),
    hidden.merchantOrderNo,
  ];
  const settle = new SingleBar(
    { format: ' settled [{bar}] {value}/{total} | waiting for polls, retries and refunds', hideCursor: true },
    undefined,
  );
  settle.start(orders.length, 0);
  const notQuiet = await waitUntilQuiet(endpoints, orders, 120_000, (quiet) => settle.update(quiet));
  settle.stop();

  // Owed by hand (a Boleto payment Stripe cannot refund): shown as owing, then paid back and
  // recorded by the operator, as `payctl refund settle-manually` records it.
  const owedBefore = (await checkOrders(endpoints, orders)).filter((violation) =>
    violation.problem.includes('by hand'),
  );
  const settledByHand = await settleOwedByHand(config.DATABASE_URL, orders, 'demo-operator');
  const violations = await checkOrders(endpoints, orders);
  const views = await Promise.all(
    orders.map(async (no) => {
      const response = await fetch(`${endpoints.gatewayUrl}/v1/payments/${no}`, {
        headers: { authorization: `Bearer ${endpoints.apiKey}` },
      });
      return (await response.json()) as {
        status: string;
        paidChannelOrderNo: string | null;
        attempts: { channelOrderNo: string; channel: string }[];
        refunds: { status: string; amount: number }[];
      };
    }),
  );
  const refunds = views.flatMap((view) => view.refunds);
  const dlqDepth = (await dlqDepthNow()) - dlqDepthBefore;
  const after = {
    settledByPolling: await metric(
      'http://127.0.0.1:9102/metrics',
      'payments_settled_total',
      'outcome="PAID"',
    ),
    notifyRetries: await metric('http://127.0.0.1:9103/metrics', 'notifications_total', 'result="retry"'),
  };
  const clientErrors = results.flatMap((result) => result.errors);

  say('');
  say('What happened');
  say(
    `  orders driven                      ${orders.length} (${SCENARIOS.map((s) => `${results.filter((r) => r.scenario === s).length} ${s}`).join(', ')}, 1 found by the statement)`,
  );
  say(`  payments kept (PAID)               ${views.filter((view) => view.status === 'PAID').length}`);
  say(`  orders closed (cancelled/expired)  ${views.filter((view) => view.status === 'CLOSED').length}`);
  say(
    `  extra charges caught and refunded  ${refunds.filter((refund) => refund.status === 'SUCCESS').length} (${refunds.filter((r) => r.status === 'SUCCESS').reduce((sum, r) => sum + r.amount, 0)} minor units returned)`,
  );
  say(
    `  refunds waiting for approval       ${refunds.filter((refund) => refund.status === 'PENDING_APPROVAL').length}`,
  );
  const keptVouchers = views.filter(
    (view) =>
      view.attempts.find((attempt) => attempt.channelOrderNo === view.paidChannelOrderNo)?.channel ===
        'stripe-boleto' && view.refunds.some((refund) => refund.status === 'SUCCESS'),
  );
  say(
    `  vouchers kept, card refunded       ${keptVouchers.length} (a Boleto paid after the card: kept, as Stripe cannot refund it)`,
  );
  say(
    `  refunds owed by hand (Boleto)      ${owedBefore.length} orders owing before the operator paid them back; ${settledByHand.length} settled manually (${settledByHand.reduce((sum, refund) => sum + refund.amount, 0)} minor units, e.g. ${settledByHand[0]?.refundNo ?? 'none'})`,
  );
  say(
    `  payments found by polling          ${after.settledByPolling - before.settledByPolling} (callbacks dropped or late)`,
  );
  say(
    `  notifications retried              ${after.notifyRetries - before.notifyRetries} (the order-service outage)`,
  );
  say(
    `  dead letters                       ${dlqDepth}${dlqDepthBefore ? ` (plus ${dlqDepthBefore} already there before the demo)` : ''}`,
  );
  say(
    `  client-side surprises              ${clientErrors.length}${clientErrors.length ? `: ${[...new Set(clientErrors)].slice(0, 3).join('; ')}` : ''}`,
  );
  say(`  time                               ${Math.round((Date.now() - started) / 1000)} s`);
  say('');
  const foundView = await paymentOf(endpoints, hidden.merchantOrderNo);
  const foundAttempt = foundView?.attempts.find(
    (attempt) => attempt.channelOrderNo === hidden.channelOrderNo,
  );
  const givenBack = (foundView?.refunds ?? [])
    .filter((refund) => refund.status === 'SUCCESS')
    .reduce((sum, refund) => sum + refund.amount, 0);
  say('Found by the statement (reconciliation, CONTRACT 11)');
  say(
    `  ${hidden.merchantOrderNo}: ${hidden.amount} CNY paid at the PSP (${givenUp.atPsp}); its callback and every poll lost (${givenUp.queries} queries answered "not found")`,
  );
  say(
    `  here, before the run: attempt ${givenUp.attemptHere}, order ${givenUp.orderHere}, the order service never told`,
  );
  say(`  $ ${recon.command}    (exit ${recon.code})`);
  for (const line of [...recon.summary, ...recon.ours]) say(`  ${line}`);
  if (recon.others > 0)
    say(
      `    (and ${recon.others} differences of earlier runs against this database, not shown: npx payctl recon report --date <day>)`,
    );
  if (recon.stderr) say(`  ${recon.stderr}`);
  say(
    recon.found
      ? `  found: attempt now ${foundAttempt?.status ?? 'unknown'} (settled through the one settlement path); its order had closed, so the money went back: ${givenBack} CNY refunded`
      : '  ✗ NOT found by the statement',
  );
  say('');
  say('Money invariants (CONTRACT 8), for every order');
  say(
    `  captured − refunded = amount if PAID, else 0; PAID told once; nothing stuck: ${violations.length === 0 && notQuiet.length === 0 ? 'OK' : 'FAILED'}`,
  );
  for (const violation of violations.slice(0, 20))
    say(`  ✗ ${violation.merchantOrderNo}: ${violation.problem}`);
  for (const no of notQuiet.slice(0, 20)) say(`  ✗ ${no}: still not settled`);
  say('');
  say(
    'Look at the queues, their .dlq and the payments.delay.* tiers at http://127.0.0.1:15672 (guest/guest),',
  );
  say('and at one payment with: npx payctl payment <merchantOrderNo>');

  await stopAll(children);
  if (violations.length > 0 || notQuiet.length > 0 || dlqDepth > 0 || !recon.found) process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  process.exit(1);
});
