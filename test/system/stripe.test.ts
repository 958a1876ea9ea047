/**
 * Stripe through the whole pipeline (gateway, poller, notifier, refunder in-process; the Stripe
 * sandbox and the others over real HTTP; the official stripe SDK unchanged in between).
 */
import Stripe from 'stripe';
import { SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET } from '../../sandbox/stripe/src/keys';
import { eventually, sleep } from '@payments/testkit';
import { checkOrder, type Endpoints } from '../../scripts/lib/invariants';
import { payctl as runPayctl } from '../support/payctl';
import { api, API_KEY, applyBody, freePort, GatewayStack, orderNo } from '../support/stack';

const RETURN_URL = 'https://shop.example/back';

describe('Stripe through the pipeline (real servers, the stripe SDK against the sandbox)', () => {
  const stack = new GatewayStack();
  let url: string;
  let endpoints: Endpoints;

  beforeAll(async () => {
    await stack.start();
    url = (await stack.startGateway()).url;
    await stack.startPoller();
    await stack.startRefunder();
    await stack.startNotifier();
    await stack.listenToEvents();
    endpoints = {
      gatewayUrl: url,
      apiKey: API_KEY,
      pspUrl: stack.pspUrl,
      otherSandboxUrls: [stack.stripeUrl],
      orderServiceUrl: stack.orderServiceUrl,
    };
  });
  afterEach(() => stack.setFaults('stripe', undefined));
  afterAll(() => stack.stop());

  const cardOrder = (no: string, overrides: Record<string, unknown> = {}) =>
    applyBody(no, {
      channel: 'stripe-card',
      amount: 1999,
      currency: 'USD',
      returnUrl: RETURN_URL,
      ...overrides,
    });
  const boletoOrder = (no: string) =>
    applyBody(no, { channel: 'stripe-boleto', amount: 15000, currency: 'BRL', returnUrl: RETURN_URL });
  const payment = async (no: string) => (await api(url, 'GET', `/v1/payments/${no}`)).body;
  const webhook = async (payload: string, header: string) => {
    const response = await fetch(`${url}/v1/notify/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload,
    });
    return response.status;
  };
  const signature = (
    payload: string,
    secret = SANDBOX_STRIPE_WEBHOOK_SECRET,
    timestamp = Math.floor(Date.now() / 1000),
  ) => Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
  const control = (no: string, step: string) =>
    fetch(`${stack.stripeUrl}/sandbox/trades/${no}/${step}`, { method: 'POST' }).then(
      (response) => response.status,
    );
  const payctl = async (...args: string[]) => {
    const { code, stdout, stderr } = await runPayctl(stack.serviceEnv(), ...args);
    return { code, stdout: `${stdout}${stderr}` };
  };

  it('card: a redirect to Checkout, paid there, settled by its webhook, the shop told once', async () => {
    const no = orderNo('st-card');
    const applied = await api(url, 'POST', '/v1/payments', cardOrder(no));
    expect(applied.status).toBe(201);
    const attempt = applied.body.attempt;
    expect(attempt.payAction).toEqual({ type: 'redirect', url: attempt.payUrl });
    expect(attempt.payUrl).toMatch(new RegExp(`^${stack.stripeUrl}/c/pay/cs_test_`));
    expect(await stack.pay(attempt.channelOrderNo, 'stripe')).toBe(200);
    await eventually('paid', async () => (await payment(no)).status === 'PAID');
    await eventually('shop told', async () => (await stack.merchantOrder(no))?.status === 'PAID');
    expect((await payment(no)).attempts[0].providerTradeNo).toMatch(/^cs_test_/);
    expect(await checkOrder(endpoints, no)).toEqual([]);
  });

  it('refuses an apply without returnUrl, a currency a channel cannot take; takes yen as they are', async () => {
    const noReturn = await api(
      url,
      'POST',
      '/v1/payments',
      cardOrder(orderNo('st-noreturn'), { returnUrl: undefined }),
    );
    expect([noReturn.status, noReturn.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const usdBoleto = await api(url, 'POST', '/v1/payments', {
      ...boletoOrder(orderNo('st-usd')),
      currency: 'USD',
    });
    expect([usdBoleto.status, usdBoleto.body.error.code]).toEqual([400, 'UNSUPPORTED_CURRENCY']);
    const no = orderNo('st-jpy');
    const yen = await api(url, 'POST', '/v1/payments', cardOrder(no, { amount: 500, currency: 'JPY' }));
    expect(yen.status).toBe(201);
    expect(await stack.pay(yen.body.attempt.channelOrderNo, 'stripe')).toBe(200);
    await eventually('paid in yen', async () => (await payment(no)).status === 'PAID');
    expect((await stack.ledger(no, 'stripe')).trades[0]).toMatchObject({ amount: 500, currency: 'JPY' });
  });

  it('webhooks: forged, stale and other-secret refused; unknown types taken; duplicated and reordered ones end right', async () => {
    const ignored = JSON.stringify({
      id: 'evt_1',
      object: 'event',
      type: 'customer.created',
      data: { object: { id: 'cus_1' } },
    });
    expect(await webhook(ignored, signature(ignored))).toBe(200);
    expect(await webhook(ignored, signature(ignored, 'whsec_other'))).toBe(401);
    expect(
      await webhook(
        ignored,
        signature(ignored, SANDBOX_STRIPE_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 400),
      ),
    ).toBe(401);
    expect(await webhook(ignored, 't=1,v1=00')).toBe(401);

    await stack.setFaults('stripe', { duplicateNotifies: true, reorderNotifiesMs: 300 });
    const no = orderNo('st-dup');
    const applied = await api(url, 'POST', '/v1/payments', cardOrder(no));
    expect(await stack.pay(applied.body.attempt.channelOrderNo, 'stripe')).toBe(200);
    await eventually('paid', async () => (await payment(no)).status === 'PAID');
    await sleep(800);
    expect(stack.eventsOf('payment.succeeded', no)).toHaveLength(1);
    expect(await checkOrder(endpoints, no)).toEqual([]);
  });

  it("another integration's sessions and refunds on the same account: their events are taken (200) and ignored, not refused for Stripe to retry", async () => {
    const sdk = new Stripe(SANDBOX_STRIPE_SECRET_KEY, {
      host: '127.0.0.1',
      port: Number(new URL(stack.stripeUrl).port),
      protocol: 'http',
      maxNetworkRetries: 0,
      telemetry: false,
    });
    const session = await sdk.checkout.sessions.create({
      mode: 'payment',
      allowed_payment_method_types: ['card'],
      line_items: [
        { quantity: 1, price_data: { currency: 'usd', unit_amount: 700, product_data: { name: 'Mug' } } },
      ],
      success_url: 'https://other.example/done',
      client_reference_id: 'order-4711',
      metadata: { shop: 'other' },
    });
    expect((await fetch(`${session.url}/card`, { method: 'POST', redirect: 'manual' })).status).toBe(303);
    const paid = await sdk.checkout.sessions.retrieve(session.id);
    const event = (type: string, object: unknown) =>
      JSON.stringify({ id: `evt_other_${type}`, object: 'event', type, data: { object } });
    const completed = event('checkout.session.completed', paid);
    expect(await webhook(completed, signature(completed))).toBe(200);
    const refund = await sdk.refunds.create({ payment_intent: paid.payment_intent as string });
    const refunded = event('refund.updated', refund);
    expect(await webhook(refunded, signature(refunded))).toBe(200);

    // A session made elsewhere under one of our attempt numbers is not that attempt's session.
    const no = orderNo('st-foreign');
    const ours = (await api(url, 'POST', '/v1/payments', cardOrder(no))).body.attempt;
    const ourSession = (await payment(no)).attempts[0].providerTradeNo;
    expect(ourSession).toMatch(/^cs_test_/);
    const borrowed = await sdk.checkout.sessions.create({
      mode: 'payment',
      allowed_payment_method_types: ['card'],
      line_items: [
        { quantity: 1, price_data: { currency: 'usd', unit_amount: 1999, product_data: { name: 'Mug' } } },
      ],
      success_url: 'https://other.example/done',
      client_reference_id: ours.channelOrderNo,
      metadata: { channelOrderNo: ours.channelOrderNo },
    });
    expect((await fetch(`${borrowed.url}/card`, { method: 'POST', redirect: 'manual' })).status).toBe(303);
    const foreign = event('checkout.session.completed', await sdk.checkout.sessions.retrieve(borrowed.id));
    expect(await webhook(foreign, signature(foreign))).toBe(200);
    await sleep(300);
    expect((await payment(no)).attempts[0]).toMatchObject({
      status: 'PAYING',
      providerTradeNo: ourSession,
    });
    expect((await payment(no)).status).toBe('PAYING');
  });

  it("the session (kept open 30 minutes by Stripe) is expired by us at the order's expiry: paying it then is refused", async () => {
    const no = orderNo('st-expire');
    const applied = await api(
      url,
      'POST',
      '/v1/payments',
      cardOrder(no, { expireAt: new Date(Date.now() + 1500).toISOString() }),
    );
    expect(applied.status).toBe(201);
    await eventually(
      'closed at expiry',
      async () => (await payment(no)).attempts[0].status === 'CLOSED',
      15_000,
    );
    expect(await stack.pay(applied.body.attempt.channelOrderNo, 'stripe')).toBe(409);
    expect((await stack.ledger(no, 'stripe')).trades[0].status).toBe('CLOSED');
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it('all webhooks dropped: paid by polling', async () => {
    await stack.setFaults('stripe', { dropNotifyRate: 1 });
    const no = orderNo('st-poll');
    const applied = await api(url, 'POST', '/v1/payments', cardOrder(no));
    expect(await stack.pay(applied.body.attempt.channelOrderNo, 'stripe')).toBe(200);
    await eventually('paid by polling', async () => (await payment(no)).status === 'PAID', 15_000);
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it("Paulo's case: a Boleto voucher, the order paid by card, the voucher paid later: the voucher is kept, the card refunded through Stripe, nothing owed by hand", async () => {
    const no = orderNo('st-paulo');
    const voucher = await api(url, 'POST', '/v1/payments', boletoOrder(no));
    expect(voucher.status).toBe(201);
    expect(await control(voucher.body.attempt.channelOrderNo, 'voucher')).toBe(200);
    // The voucher office is far: Paulo pays by card instead. The voucher cannot be closed.
    const cardApply = await api(
      url,
      'POST',
      '/v1/payments',
      cardOrder(no, { amount: 15000, currency: 'BRL' }),
    );
    expect(cardApply.status).toBe(201);
    const card = cardApply.body.attempt.channelOrderNo;
    expect(await stack.pay(card, 'stripe')).toBe(200);
    await eventually('paid by card', async () => (await payment(no)).status === 'PAID');
    await eventually('shop told', async () => (await stack.merchantOrder(no))?.status === 'PAID');
    // Market day: he pays the voucher too. A Boleto cannot be refunded; the card can: the voucher
    // is kept and the card's charge given back through Stripe.
    expect(await stack.pay(voucher.body.attempt.channelOrderNo, 'stripe')).toBe(200);
    // Refunded at Stripe, and recorded so here (Stripe's ledger says so a moment before we do).
    await eventually(
      'the card refunded',
      async () =>
        (await payment(no)).refunds.some((refund: { status: string }) => refund.status === 'SUCCESS'),
      20_000,
    );
    expect((await stack.ledger(no, 'stripe')).refunds).toEqual([
      expect.objectContaining({ channelOrderNo: card, status: 'SUCCESS' }),
    ]);
    const view = await payment(no);
    expect(view.status).toBe('PAID');
    expect(view.paidChannelOrderNo).toBe(voucher.body.attempt.channelOrderNo);
    expect(view.refunds).toEqual([
      expect.objectContaining({
        channelOrderNo: card,
        amount: 15000,
        reason: 'DUPLICATE_PAYMENT',
        status: 'SUCCESS',
      }),
    ]);
    expect(stack.eventsOf('payment.kept_changed', no).map((event) => event.body.data)).toEqual([
      expect.objectContaining({ merchantOrderNo: no, from: card, to: voucher.body.attempt.channelOrderNo }),
    ]);
    // The shop holds one payment of the order's amount, told once; nobody owes anything by hand.
    expect((await stack.merchantOrder(no))?.distinctEvents).toBe(1);
    expect((await payctl('refund', 'list', '--manual')).stdout).not.toContain(no);
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
    expect((await payctl('payment', no)).stdout).toMatch(/kept instead/);
  });

  it('a voucher paid after its order closed has nothing refundable in its place: owed by hand, clean once settled', async () => {
    const no = orderNo('st-owed');
    const voucher = await api(url, 'POST', '/v1/payments', boletoOrder(no));
    expect(await control(voucher.body.attempt.channelOrderNo, 'voucher')).toBe(200);
    expect((await api(url, 'POST', `/v1/payments/${no}/close`)).body.status).toBe('CLOSED');
    expect(await stack.pay(voucher.body.attempt.channelOrderNo, 'stripe')).toBe(200);
    const owed = await eventually(
      'a refund owed by hand',
      async () =>
        (await payment(no)).refunds.find((refund: { status: string }) => refund.status === 'MANUAL_REQUIRED'),
      20_000,
    );
    expect(owed).toMatchObject({
      channelOrderNo: voucher.body.attempt.channelOrderNo,
      amount: 15000,
      settledManually: null,
    });
    // Nothing was sent to Stripe, and the order is owing, never clean.
    await sleep(500);
    expect((await stack.ledger(no, 'stripe')).refunds).toEqual([]);
    expect((await checkOrder(endpoints, no)).map((violation) => violation.problem)).toEqual(
      expect.arrayContaining([expect.stringMatching(/owes 15000 by hand/)]),
    );
    expect(stack.eventsOf('refund.manual_required', no)).toHaveLength(1);
    const listed = await payctl('refund', 'list', '--manual');
    expect(listed.stdout).toContain(owed.refundNo);
    // The merchant pays the shopper back by bank transfer and records it.
    expect(
      (await payctl('refund', 'settle-manually', owed.refundNo, '--by', 'ana', '--reference', 'PIX E2E-123'))
        .code,
    ).toBe(0);
    expect(
      (await payctl('refund', 'settle-manually', owed.refundNo, '--by', 'ana', '--reference', 'again')).code,
    ).not.toBe(0);
    const after = await payment(no);
    expect(after.refunds[0]).toMatchObject({
      status: 'SUCCESS',
      settledManually: { by: 'ana', reference: 'PIX E2E-123' },
    });
    expect(await checkOrder(endpoints, no)).toEqual([]);
    expect((await payctl('payment', no)).stdout).toMatch(/refund settled manually.*ana.*PIX E2E-123/);
  });

  it('a card paid after the order closed (its session could not be expired) is refunded through Stripe', async () => {
    const no = orderNo('st-late');
    const applied = await api(url, 'POST', '/v1/payments', cardOrder(no));
    await stack.setFaults('stripe', { closeErrorRate: 1 });
    expect((await api(url, 'POST', `/v1/payments/${no}/close`)).body.status).toBe('CLOSED');
    expect(await stack.pay(applied.body.attempt.channelOrderNo, 'stripe')).toBe(200);
    await stack.setFaults('stripe', undefined);
    await eventually(
      'refunded at Stripe',
      async () => (await stack.ledger(no, 'stripe')).refunds.some((refund) => refund.status === 'SUCCESS'),
      20_000,
    );
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
    expect((await payment(no)).status).toBe('CLOSED');
  });

  it('a create whose answer Stripe lost: the poller sends the same create, learns its session and closes it, not waiting for expiry (issue 26.6)', async () => {
    const no = orderNo('st-lost');
    const stripeFaults = (method: string, body?: unknown) =>
      fetch(`${stack.stripeUrl}/sandbox/stripe-faults`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    expect((await stripeFaults('PUT', { createAnswerLostRate: 1 })).status).toBe(200);
    const applied = await api(url, 'POST', '/v1/payments', cardOrder(no));
    expect([applied.status, applied.body.error?.code]).toEqual([502, 'CHANNEL_ERROR']);
    expect((await stripeFaults('DELETE')).status).toBeLessThan(300);
    // Stripe made the session; we never heard its id, and Stripe cannot be asked by our number.
    expect((await stack.ledger(no, 'stripe')).trades).toHaveLength(1);
    const ended = await eventually(
      'the session learned and closed',
      async () => {
        const [attempt] = (await payment(no)).attempts;
        return attempt?.status === 'CLOSED' ? attempt : undefined;
      },
      20_000,
    );
    expect(ended.providerTradeNo).toMatch(/^cs_test_/);
    // The replay made no second session, and the one there is can no longer be paid.
    const [trade] = (await stack.ledger(no, 'stripe')).trades;
    expect((await stack.ledger(no, 'stripe')).trades).toHaveLength(1);
    expect(trade!.status).not.toBe('WAITING');
    expect(await stack.pay(ended.channelOrderNo, 'stripe')).not.toBe(200);
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it("Stripe down opens Stripe's breaker only: the others keep working", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const noStripe = (
      await stack.startGateway({ BREAKER_VOLUME: '2', BREAKER_RESET: '60s', STRIPE_API_BASE: dead })
    ).url;
    for (let i = 0; i < 4; i += 1) await api(noStripe, 'POST', '/v1/payments', cardOrder(orderNo('st-down')));
    const open = await api(noStripe, 'POST', '/v1/payments', cardOrder(orderNo('st-down')));
    expect([open.status, open.body.error.code]).toEqual([502, 'CHANNEL_ERROR']);
    expect(open.body.error.message).toMatch(/open/i);
    expect((await api(noStripe, 'POST', '/v1/payments', applyBody(orderNo('psp-up')))).status).toBe(201);
    expect(
      (await api(noStripe, 'POST', '/v1/payments', applyBody(orderNo('wx-up'), { channel: 'wechat-native' })))
        .status,
    ).toBe(201);
  });
});
