/**
 * The official stripe SDK, through our Stripe provider, against the Stripe sandbox over real HTTP:
 * Checkout Sessions for cards and Boleto, idempotency keys (replays, `idempotency_error`,
 * `idempotency_key_in_use`, lost create answers), amounts in each currency's smallest unit, session
 * expiry, Boleto vouchers payable until their own expiry, refunds (and Boleto's refusal), signed
 * webhooks and their retries, and events of another integration's sessions and refunds.
 */
import Stripe from 'stripe';
import {
  ChannelRejectedError,
  ChannelUnavailableError,
  NotifyRejectedError,
  payActionTarget,
} from '@payments/core';
import { sessionExpiresAt, StripeProvider } from '@payments/providers';
import { SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET } from '../../src/keys';
import {
  eventually,
  sleep,
  NotificationReceiver,
  providerHarness,
  type ReceiverAnswer,
} from '@payments/testkit';
import { boletoVoucherExpiresAt } from '../../src/boleto-expiry';
import { parseForm } from '../../src/form';
import { stripeSandbox } from '../../src/entry';

interface Received {
  headers: Record<string, string>;
  rawBody: string;
  event: { id: string; type: string; data: { object: { id: string; client_reference_id?: string } } };
}

/** The account's webhook endpoint (where the sandbox's entry sends them: a gateway's /v1/notify/stripe): records events raw, answers as told. */
class WebhookReceiver extends NotificationReceiver<{ event: Received['event'] }> {
  /** Statuses to answer for events of a type, in order; once used up, 200. */
  answers: Record<string, number[]> = {};

  constructor() {
    super({ path: '/v1/notify/stripe', contentType: 'application/json' });
  }

  protected read(rawBody: string) {
    return { event: JSON.parse(rawBody) as Received['event'] };
  }

  protected answer(received: Received): ReceiverAnswer {
    return { status: this.answers[received.event.type]?.shift() ?? 200, body: { received: true } };
  }

  of(type: string, sessionOrObjectId?: string) {
    return this.received.filter(
      (entry) =>
        entry.event.type === type && (!sessionOrObjectId || entry.event.data.object.id === sessionOrObjectId),
    );
  }
}

describe('Stripe: the stripe SDK against the sandbox', () => {
  const requests: { method: string; url: string; body: string }[] = [];
  /** The sandbox's API answers: which were replays of a kept answer. */
  const replies: { url: string; status: number; replayed: boolean }[] = [];
  const harness = providerHarness({
    entry: stripeSandbox,
    name: 'stripe',
    receiver: new WebhookReceiver(),
    makeProvider: (config, kit) => new StripeProvider(config, kit, ['stripe-card', 'stripe-boleto']),
    // Stripe sends every event to the account's endpoint: the receiver stands for the gateway.
    gatewayUrl: (receiver) => new URL(receiver.url).origin,
    onBuild: (sandbox) => {
      sandbox.addHook('preHandler', async (request) => {
        if (request.url.startsWith('/v1/'))
          requests.push({
            method: request.method,
            url: request.url.split('?')[0]!,
            body: String(request.body ?? ''),
          });
      });
      sandbox.addHook('onSend', async (request, reply, payload) => {
        if (request.url.startsWith('/v1/'))
          replies.push({
            url: request.url.split('?')[0]!,
            status: reply.statusCode,
            replayed: reply.getHeader('idempotent-replayed') === 'true',
          });
        return payload;
      });
    },
    contentType: 'application/json',
    trade: {
      tag: 'st',
      money: { amount: 1999, currency: 'USD' },
      expiresInMs: 2 * 3600_000,
      notifyUrl: 'http://127.0.0.1:1/v1/notify/stripe',
      returnUrl: 'https://shop.example/return',
    },
  });
  const { receiver, makeProvider, trade, ref, control, faults, ledger, notification } = harness;
  const card = () => harness.channel('stripe-card');
  const boleto = () => harness.channel('stripe-boleto');
  /** Moves the sandbox's clock on (reset after each test); its answer says the sandbox's time now. */
  const advanceClock = async (seconds: number) =>
    JSON.parse((await control('POST', '/sandbox/clock', { advanceS: seconds })).text) as { now: string };
  const sandboxNowS = async () =>
    Date.parse(JSON.parse((await control('GET', '/sandbox/clock')).text).now) / 1000;
  /** The stripe SDK itself, as another integration on the same account would use it. */
  const sdk = () =>
    new Stripe(SANDBOX_STRIPE_SECRET_KEY, {
      host: '127.0.0.1',
      port: Number(new URL(harness.base).port),
      protocol: 'http',
      maxNetworkRetries: 0,
      telemetry: false,
    });
  /** What a failed call threw, to look at. */
  const thrown = async (call: Promise<unknown>) =>
    call.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (error: unknown) => error as Error & Record<string, unknown>,
    );
  /* eslint-disable @typescript-eslint/no-explicit-any -- the last session create as Stripe read it: any shape */
  const lastCreate = () =>
    parseForm(requests.filter((entry) => entry.url === '/v1/checkout/sessions').at(-1)!.body) as Record<
      string,
      any
    >;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  const webhook = (payload: string, header: string) => notification(payload, { 'stripe-signature': header });
  const signed = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
    webhook(
      payload,
      Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: options.secret ?? SANDBOX_STRIPE_WEBHOOK_SECRET,
        timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
      }),
    );

  beforeAll(() => harness.start());
  afterEach(async () => {
    await faults(undefined); // the kit's faults and Stripe's own (stripe-faults)
    await control('DELETE', '/sandbox/clock');
    receiver.answers = {};
  });
  afterAll(() => harness.stop());

  it('card: a Checkout Session, the same one again, paid on its page, back to returnUrl, refunded once', async () => {
    const request = trade();
    const created = await card().createTrade(request);
    expect(created.payAction.type).toBe('redirect');
    expect(created.providerTradeNo).toMatch(/^cs_test_/);
    // The same create again (its Idempotency-Key is our channelOrderNo) is the same session.
    expect(await card().createTrade(request)).toEqual(created);
    expect(requests.filter((entry) => entry.url === '/v1/checkout/sessions').length).toBeGreaterThanOrEqual(
      2,
    );
    const sent = lastCreate();
    expect(sent).toMatchObject({
      mode: 'payment',
      allowed_payment_method_types: ['card'],
      client_reference_id: request.channelOrderNo,
      metadata: { channelOrderNo: request.channelOrderNo, merchantOrderNo: request.merchantOrderNo },
      payment_intent_data: { metadata: { channelOrderNo: request.channelOrderNo } },
      success_url: request.returnUrl,
      line_items: [
        {
          quantity: '1',
          price_data: { currency: 'usd', unit_amount: '1999', product_data: { name: 'Blue teapot' } },
        },
      ],
    });
    expect(sent.payment_method_types).toBeUndefined();
    const reference = ref(request.channelOrderNo, created.providerTradeNo);
    expect(await card().queryTrade(reference)).toMatchObject({ status: 'PAYING' });

    const url = payActionTarget(created.payAction);
    const opened = await fetch(url);
    expect(await opened.text()).toContain('USD 19.99');
    const paid = await fetch(`${url}/card`, { method: 'POST', redirect: 'manual' });
    expect([paid.status, paid.headers.get('location')]).toEqual([303, request.returnUrl]);
    expect(await card().queryTrade(reference)).toMatchObject({
      status: 'SUCCESS',
      amount: 1999,
      currency: 'USD',
    });
    expect(await card().closeTrade(reference)).toMatchObject({
      result: 'ALREADY_PAID',
      outcome: { amount: 1999 },
    });

    const refund = {
      refundNo: `rf_${request.channelOrderNo}`,
      attempt: reference,
      money: request.money,
      paid: request.money,
      notifyUrl: request.notifyUrl,
    };
    expect(await card().queryRefund(refund.refundNo, reference)).toBe('NOT_FOUND');
    expect(await card().refund(refund)).toBe('PROCESSING');
    await eventually(
      'refund succeeded',
      async () => (await card().queryRefund(refund.refundNo, reference)) === 'SUCCESS',
    );
    // The same refundNo again is replayed by Stripe (its Idempotency-Key): nothing more moves.
    expect(await card().refund(refund)).toBe('PROCESSING');
    const book = await ledger(request.merchantOrderNo);
    expect(book.trades).toEqual([
      expect.objectContaining({
        channelOrderNo: request.channelOrderNo,
        amount: 1999,
        currency: 'USD',
        status: 'PAID',
      }),
    ]);
    expect(book.refunds).toEqual([
      { refundNo: refund.refundNo, channelOrderNo: request.channelOrderNo, amount: 1999, status: 'SUCCESS' },
    ]);
    await expect(
      card().refund({ ...refund, refundNo: `${refund.refundNo}_2`, money: { amount: 1, currency: 'USD' } }),
    ).rejects.toThrow(/charge_already_refunded/);
  });

  it.each([
    [1999, 'USD', '1999', 'usd'],
    [500, 'JPY', '500', 'jpy'],
    [1, 'EUR', '1', 'eur'],
    [123456, 'BRL', '123456', 'brl'],
  ])('sends %i %s as unit_amount %s %s, and reads it back exactly', async (amount, currency, unit, code) => {
    const request = trade({ money: { amount, currency } });
    const created = await card().createTrade(request);
    expect(lastCreate().line_items[0].price_data).toMatchObject({ unit_amount: unit, currency: code });
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    expect(await card().queryTrade(ref(request.channelOrderNo, created.providerTradeNo))).toMatchObject({
      status: 'SUCCESS',
      amount,
      currency,
    });
  });

  it("expires_at is the order's expiry, raised to Stripe's 30 minutes; expired by us, it cannot be paid", async () => {
    const soon = new Date(Date.now() + 5 * 60_000);
    const request = trade({ expireAt: soon });
    const created = await card().createTrade(request);
    const asked = Number(lastCreate().expires_at);
    expect(asked).toBe(sessionExpiresAt(soon, new Date(asked * 1000 - 31 * 60_000)));
    expect(asked - Date.now() / 1000).toBeGreaterThanOrEqual(30 * 60);
    const later = new Date(Date.now() + 2 * 3600_000);
    await card().createTrade(trade({ expireAt: later }));
    expect(Number(lastCreate().expires_at)).toBe(Math.floor(later.getTime() / 1000));

    const reference = ref(request.channelOrderNo, created.providerTradeNo);
    expect(await card().closeTrade(reference)).toEqual({ result: 'CLOSED' });
    expect(await card().queryTrade(reference)).toMatchObject({ status: 'CLOSED' });
    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(409);
    expect(
      (await fetch(`${payActionTarget(created.payAction)}/card`, { method: 'POST', redirect: 'manual' }))
        .status,
    ).toBe(409);
    // Expiring again: no longer open, and its state says closed.
    expect(await card().closeTrade(reference)).toEqual({ result: 'CLOSED' });
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('CLOSED');
  });

  it('Boleto: the voucher issued is in flight and no longer closable; paid later it is a payment Stripe will not refund', async () => {
    const request = trade({ money: { amount: 15000, currency: 'BRL' } });
    const created = await boleto().createTrade(request);
    expect(lastCreate().allowed_payment_method_types).toEqual(['boleto']);
    const reference = ref(request.channelOrderNo, created.providerTradeNo);
    // On its page the shopper gives a CPF and gets the voucher.
    const issued = await fetch(`${payActionTarget(created.payAction)}/boleto`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'tax_id=123.456.789-09',
      redirect: 'manual',
    });
    expect(issued.status).toBe(303);
    const voucherPage = await (await fetch(`${harness.base}${issued.headers.get('location')}`)).text();
    expect(voucherPage).toContain('BRL 150.00');
    expect(await boleto().queryTrade(reference)).toMatchObject({ status: 'PAYING' });
    expect(await boleto().closeTrade(reference)).toEqual({ result: 'NOT_SUPPORTED' });
    // Market day: the voucher is paid.
    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(200);
    expect(await boleto().queryTrade(reference)).toMatchObject({
      status: 'SUCCESS',
      amount: 15000,
      currency: 'BRL',
    });
    expect(boleto().refundable).toBe(false);
    const refund = {
      refundNo: 'rf_boleto',
      attempt: reference,
      money: request.money,
      paid: request.money,
      notifyUrl: request.notifyUrl,
    };
    await expect(boleto().refund(refund)).rejects.toBeInstanceOf(ChannelRejectedError);
    // And Stripe itself refuses it, had anyone asked.
    const sdk = new Stripe(SANDBOX_STRIPE_SECRET_KEY, {
      host: '127.0.0.1',
      port: Number(new URL(harness.base).port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const session = await sdk.checkout.sessions.retrieve(created.providerTradeNo!);
    await expect(
      sdk.refunds.create({ payment_intent: session.payment_intent as string }),
    ).rejects.toMatchObject({ code: 'charge_not_refundable' });
    // A Boleto session takes reais only.
    await expect(
      boleto().createTrade(trade({ money: { amount: 100, currency: 'USD' } })),
    ).rejects.toBeInstanceOf(ChannelRejectedError);
  });

  it('Boleto: a voucher that expires unpaid ends the attempt as failed', async () => {
    const request = trade({ money: { amount: 15000, currency: 'BRL' } });
    const created = await boleto().createTrade(request);
    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/voucher`)).status).toBe(200);
    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/expire-voucher`)).status).toBe(
      200,
    );
    expect(await boleto().queryTrade(ref(request.channelOrderNo, created.providerTradeNo))).toMatchObject({
      status: 'FAILED',
    });
    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(409);
  });

  it('webhooks: signed as Stripe signs, read back; forged, stale, other-secret and tampered ones refused', async () => {
    const request = trade();
    const created = await card().createTrade(request);
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    const [completed] = await eventually('checkout.session.completed', async () => {
      const found = receiver.of('checkout.session.completed', created.providerTradeNo!);
      return found.length > 0 && found;
    });
    const real = webhook(completed!.rawBody, completed!.headers['stripe-signature']!);
    expect(await harness.provider.verifyNotification(real)).toEqual({
      kind: 'payment',
      channelOrderNo: request.channelOrderNo,
      providerTradeNo: created.providerTradeNo,
      outcome: expect.objectContaining({ status: 'SUCCESS', amount: 1999, currency: 'USD' }),
    });
    const status = (notification: ReturnType<typeof webhook>) =>
      harness.provider.verifyNotification(notification).then(
        () => 'accepted',
        (error: unknown) => (error instanceof NotifyRejectedError ? error.status : String(error)),
      );
    expect(await status(signed(completed!.rawBody, { secret: 'whsec_other' }))).toBe(401);
    expect(await status(signed(completed!.rawBody, { timestamp: Math.floor(Date.now() / 1000) - 400 }))).toBe(
      401,
    );
    expect(
      await status(
        webhook(
          completed!.rawBody.replace('"livemode":false', '"livemode":true'),
          completed!.headers['stripe-signature']!,
        ),
      ),
    ).toBe(401);
    expect(await status(webhook(completed!.rawBody, ''))).toBe(401);
    // Secret rotation: a valid v1 beside an old one is taken.
    const timestamp = Math.floor(Date.now() / 1000);
    const good = Stripe.webhooks.generateTestHeaderString({
      payload: completed!.rawBody,
      secret: SANDBOX_STRIPE_WEBHOOK_SECRET,
      timestamp,
    });
    const old = Stripe.webhooks.generateTestHeaderString({
      payload: completed!.rawBody,
      secret: 'whsec_old',
      timestamp,
    });
    expect(await status(webhook(completed!.rawBody, `${old},${good.split(',')[1]}`))).toBe('accepted');
    // Types we do not act on are taken and ignored.
    expect(
      await harness.provider.verifyNotification(
        signed(
          JSON.stringify({
            id: 'evt_x',
            object: 'event',
            type: 'customer.created',
            data: { object: { id: 'cus_1' } },
          }),
        ),
      ),
    ).toMatchObject({ kind: 'ignored' });
    // An event's body is only a hint: what it settles is the session as Stripe has it now.
    const stale = JSON.parse(completed!.rawBody);
    stale.type = 'checkout.session.expired';
    expect(await harness.provider.verifyNotification(signed(JSON.stringify(stale)))).toMatchObject({
      outcome: { status: 'SUCCESS' },
    });
    expect(harness.provider.acknowledge({ accepted: true })).toMatchObject({ status: 200 });
  });

  it('refund webhooks report our refunds by refundNo; retried until answered 2xx, the same event each time', async () => {
    const request = trade();
    const created = await card().createTrade(request);
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    const reference = ref(request.channelOrderNo, created.providerTradeNo);
    await eventually(
      'paid webhook in',
      async () => receiver.of('checkout.session.completed', created.providerTradeNo!).length > 0,
    );
    receiver.answers = { 'refund.created': [500, 503] };
    const before = receiver.received.length;
    await card().refund({
      refundNo: 'rf_hook',
      attempt: reference,
      money: request.money,
      paid: request.money,
      notifyUrl: request.notifyUrl,
    });
    const [updated] = await eventually('refund.updated', async () => {
      const found = receiver.received.slice(before).filter((entry) => entry.event.type === 'refund.updated');
      return found.length > 0 && found;
    });
    expect(
      await harness.provider.verifyNotification(
        webhook(updated!.rawBody, updated!.headers['stripe-signature']!),
      ),
    ).toEqual({
      kind: 'refund',
      refunds: [{ refundNo: 'rf_hook', status: 'SUCCESS' }],
    });
    const [refunded] = await eventually('charge.refunded', async () => {
      const found = receiver.received.slice(before).filter((entry) => entry.event.type === 'charge.refunded');
      return found.length > 0 && found;
    });
    expect(
      await harness.provider.verifyNotification(
        webhook(refunded!.rawBody, refunded!.headers['stripe-signature']!),
      ),
    ).toEqual({
      kind: 'refund',
      refunds: [{ refundNo: 'rf_hook', status: 'SUCCESS' }],
    });
    // The first event (refund.created) was answered 500, 503, then 200: three sends of one event.
    await sleep(800); // its retries come 60 ms and then 300 ms later (1 min, 5 min scaled)
    const created_ = receiver.received
      .slice(before)
      .filter(
        (entry) => entry.event.type === 'refund.created' && entry.rawBody.includes('"refundNo":"rf_hook"'),
      );
    expect(created_).toHaveLength(3);
    expect(new Set(created_.map((entry) => entry.event.id)).size).toBe(1);
  });

  it('a create sent again later is the same request (expires_at from requestedAt), replayed by Stripe as the same session; other parameters are an unknown outcome', async () => {
    const channel = makeProvider().channels[0]!; // stripe-card, a breaker of its own
    const requestedAt = new Date(Date.now() - 20_000);
    // An order expiring soon: expires_at is Stripe's 30 minutes (and a margin), counted from requestedAt.
    const request = trade({ requestedAt, expireAt: new Date(requestedAt.getTime() + 5 * 60_000) });
    const created = await channel.createTrade(request);
    expect(Number(lastCreate().expires_at)).toBe(sessionExpiresAt(request.expireAt, requestedAt));
    await sleep(1100); // a clock read at the call would now ask for another expires_at
    expect(await channel.createTrade(request)).toEqual(created);
    expect(replies.at(-1)).toEqual({ url: '/v1/checkout/sessions', status: 200, replayed: true });
    // The same key with other parameters: Stripe runs nothing, and what the first did stands.
    const other = await thrown(channel.createTrade({ ...request, subject: 'Green teapot' }));
    expect(other).toBeInstanceOf(ChannelUnavailableError);
    expect(other).not.toBeInstanceOf(ChannelRejectedError);
    expect(other.mayHaveReachedProvider).toBe(true);
    expect(other.message).toMatch(/idempotency_error|StripeIdempotencyError/);
    expect(replies.at(-1)).toEqual({ url: '/v1/checkout/sessions', status: 400, replayed: false });
    expect((await ledger(request.merchantOrderNo)).trades).toHaveLength(1);
    expect(await channel.queryTrade(ref(request.channelOrderNo, created.providerTradeNo))).toMatchObject({
      status: 'PAYING',
    });
  });

  it("Stripe's idempotency as the SDK sees it: replayed for 24 hours, other parameters refused, one still running in use, a request refused before it ran not kept", async () => {
    const stripe = sdk();
    const key = `co_idem_${Date.now().toString(36)}`;
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const params = (name: string, expires_at?: number): Stripe.Checkout.SessionCreateParams => ({
      mode: 'payment',
      allowed_payment_method_types: ['card'],
      line_items: [
        { quantity: 1, price_data: { currency: 'usd', unit_amount: 500, product_data: { name } } },
      ],
      success_url: 'https://shop.example/return',
      ...(expires_at === undefined ? {} : { expires_at }),
    });
    // Refused before it ran (expires_at sooner than 30 minutes): nothing is kept, the key stays free.
    const tooSoon = await thrown(
      stripe.checkout.sessions.create(params('Tea', expiresAt - 3540), { idempotencyKey: key }),
    );
    expect(tooSoon).toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      param: 'expires_at',
    });
    const first = await stripe.checkout.sessions.create(params('Tea', expiresAt), { idempotencyKey: key });
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    const again = await stripe.checkout.sessions.create(params('Tea', expiresAt), { idempotencyKey: key });
    expect([again.id, again.url, again.lastResponse.headers['idempotent-replayed']]).toEqual([
      first.id,
      first.url,
      'true',
    ]);
    expect(again.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    // Other parameters, or another endpoint, under the key: 400 idempotency_error.
    const mismatch = await thrown(
      stripe.checkout.sessions.create(params('Coffee', expiresAt), { idempotencyKey: key }),
    );
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(mismatch).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    expect(
      await thrown(stripe.checkout.sessions.expire(first.id, {}, { idempotencyKey: key })),
    ).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);

    // One still running (a slow create): 409 idempotency_key_in_use, which the SDK makes a StripeAPIError.
    await faults({ createLatencyMs: 700 });
    const slowKey = `${key}_slow`;
    const slow = stripe.checkout.sessions.create(params('Tea', expiresAt), { idempotencyKey: slowKey });
    await sleep(200);
    const inUse = await thrown(
      stripe.checkout.sessions.create(params('Tea', expiresAt), { idempotencyKey: slowKey }),
    );
    expect(inUse).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(inUse).toMatchObject({
      statusCode: 409,
      code: 'idempotency_key_in_use',
      rawType: 'idempotency_error',
    });
    const finished = await slow;
    await faults(undefined);
    expect(
      (await stripe.checkout.sessions.create(params('Tea', expiresAt), { idempotencyKey: slowKey })).id,
    ).toBe(finished.id);

    // Kept at least 24 hours, and then forgotten: the key with other parameters is a new request.
    await advanceClock(24 * 3600 - 60);
    expect(
      await thrown(stripe.checkout.sessions.create(params('Coffee'), { idempotencyKey: key })),
    ).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    await advanceClock(61);
    const renewed = await stripe.checkout.sessions.create(params('Coffee'), { idempotencyKey: key });
    expect(renewed.id).not.toBe(first.id);
    expect(renewed.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('the channel reads an idempotency conflict as an unknown outcome: a create still running is not refused', async () => {
    const channel = makeProvider().channels[0]!;
    const request = trade();
    await faults({ createLatencyMs: 700 });
    const first = channel.createTrade(request);
    await sleep(200);
    const inUse = await thrown(channel.createTrade(request));
    expect(inUse).toBeInstanceOf(ChannelUnavailableError);
    expect(inUse.mayHaveReachedProvider).toBe(true);
    expect(inUse.message).toMatch(/idempotency_key_in_use/);
    const created = await first;
    await faults(undefined);
    expect(await channel.createTrade(request)).toEqual(created);
  });

  it('a lost create answer (the createAnswerLostRate fault): the session exists, and the same create later replays it; other parameters stay unknown', async () => {
    const channel = makeProvider().channels[0]!; // BREAKER_TIMEOUT 2s
    const requestedAt = new Date();
    const request = trade({ requestedAt, expireAt: new Date(requestedAt.getTime() + 10 * 60_000) });
    expect((await control('PUT', '/sandbox/stripe-faults', { createAnswerLostRate: 1 })).status).toBe(200);
    const lost = await thrown(channel.createTrade(request));
    expect(lost).toBeInstanceOf(ChannelUnavailableError);
    expect(lost.mayHaveReachedProvider).toBe(true);
    // Stripe made the session: it waits to be paid, but we never heard its id.
    const book = await ledger(request.merchantOrderNo);
    expect(book.trades).toEqual([
      expect.objectContaining({ channelOrderNo: request.channelOrderNo, status: 'WAITING' }),
    ]);
    await control('DELETE', '/sandbox/stripe-faults');

    // Later (the poller, or a second apply): the very same request, requestedAt included.
    const recovered = await channel.createTrade({ ...request });
    expect(replies.at(-1)).toEqual({ url: '/v1/checkout/sessions', status: 200, replayed: true });
    expect(recovered.providerTradeNo).toMatch(/^cs_test_/);
    expect(payActionTarget(recovered.payAction)).toContain(recovered.providerTradeNo);
    expect(await channel.createTrade(request)).toEqual(recovered);
    expect((await ledger(request.merchantOrderNo)).trades).toHaveLength(1);
    const reference = ref(request.channelOrderNo, recovered.providerTradeNo);
    expect(await channel.queryTrade(reference)).toMatchObject({ status: 'PAYING' });
    // What the shopper pays is that session: the recovered id settles it.
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    expect(await channel.queryTrade(reference)).toMatchObject({ status: 'SUCCESS', amount: 1999 });

    // A create with another subject under the same key is not a "no session": unknown, never refused.
    const changed = await thrown(channel.createTrade({ ...request, subject: 'Green teapot' }));
    expect(changed).toBeInstanceOf(ChannelUnavailableError);
    expect(changed).not.toBeInstanceOf(ChannelRejectedError);
    expect(changed.mayHaveReachedProvider).toBe(true);

    // Past what Stripe keeps (24 hours), a create is no replay (it would be refused for its expires_at,
    // or make a second session): it is not sent, and its outcome stays unknown.
    const sent = requests.length;
    const stale = await thrown(
      channel.createTrade({ ...request, requestedAt: new Date(Date.now() - 23.5 * 3600_000) }),
    );
    expect(stale).toBeInstanceOf(ChannelUnavailableError);
    expect(stale.mayHaveReachedProvider).toBe(true);
    expect(requests.length).toBe(sent);
  });

  it('Boleto: an issued voucher is payable until its own expiry (23:59:59 São Paulo, 3 calendar days), paid by then', async () => {
    const request = trade({ money: { amount: 15000, currency: 'BRL' } });
    const created = await boleto().createTrade(request);
    const reference = ref(request.channelOrderNo, created.providerTradeNo);
    const issuedAt = await sandboxNowS();
    const issued = JSON.parse(
      (await control('POST', `/sandbox/trades/${request.channelOrderNo}/voucher`)).text,
    );
    const expiresAt: number = issued.voucher.next_action.boleto_display_details.expires_at;
    expect(expiresAt).toBe(boletoVoucherExpiresAt(issuedAt, 3));
    const saoPaulo = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'America/Sao_Paulo',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    expect(saoPaulo.format(new Date(expiresAt * 1000))).toBe('23:59:59');
    // Through the SDK, the expanded payment intent carries it.
    const session = await sdk().checkout.sessions.retrieve(created.providerTradeNo!, {
      expand: ['payment_intent'],
    });
    expect(
      (session.payment_intent as Stripe.PaymentIntent).next_action?.boleto_display_details?.expires_at,
    ).toBe(expiresAt);
    expect(await boleto().queryTrade(reference)).toEqual({
      status: 'PAYING',
      providerTradeNo: created.providerTradeNo,
      payableUntil: new Date(expiresAt * 1000),
    });
    // Its last second, days after the order's own expiry: still payable.
    await advanceClock(expiresAt - (await sandboxNowS()));
    expect(await boleto().queryTrade(reference)).toMatchObject({ status: 'PAYING' });
    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(200);
    expect(await boleto().queryTrade(reference)).toMatchObject({ status: 'SUCCESS', amount: 15000 });
  });

  it('Boleto: past its expiry the voucher fails (requires_payment_method, async_payment_failed) and can no longer be paid', async () => {
    const request = trade({ money: { amount: 15000, currency: 'BRL' } });
    const created = await boleto().createTrade(request);
    const reference = ref(request.channelOrderNo, created.providerTradeNo);
    const issued = JSON.parse(
      (await control('POST', `/sandbox/trades/${request.channelOrderNo}/voucher`)).text,
    );
    const expiresAt: number = issued.voucher.next_action.boleto_display_details.expires_at;
    const intentId: string = issued.voucher.id;
    const before = receiver.received.length;
    await advanceClock(expiresAt - (await sandboxNowS()) + 1);
    const [failed] = await eventually('checkout.session.async_payment_failed', async () => {
      const found = receiver.received
        .slice(before)
        .filter(
          (entry) =>
            entry.event.type === 'checkout.session.async_payment_failed' &&
            entry.event.data.object.id === created.providerTradeNo,
        );
      return found.length > 0 && found;
    });
    expect(
      await harness.provider.verifyNotification(
        webhook(failed!.rawBody, failed!.headers['stripe-signature']!),
      ),
    ).toMatchObject({
      kind: 'payment',
      channelOrderNo: request.channelOrderNo,
      outcome: { status: 'FAILED' },
    });
    expect((await sdk().paymentIntents.retrieve(intentId)).status).toBe('requires_payment_method');
    expect(await boleto().queryTrade(reference)).toMatchObject({ status: 'FAILED' });
    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(409);
    expect((await fetch(`${harness.base}/voucher/${intentId}/pay`, { method: 'POST' })).status).toBe(409);
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('EXPIRED');
  });

  it("events of another integration's sessions and refunds on the same account are taken and ignored, never refused", async () => {
    const stripe = sdk();
    const status = (notification: ReturnType<typeof webhook>) =>
      harness.provider.verifyNotification(notification).then(
        (verdict) => verdict.kind,
        (error: unknown) => (error instanceof NotifyRejectedError ? error.status : String(error)),
      );
    // A Payment Link or a second shop: its own reference (or none), none of our metadata.
    const foreigners: Pick<Stripe.Checkout.SessionCreateParams, 'client_reference_id' | 'metadata'>[] = [
      { client_reference_id: 'order-4711', metadata: { shop: 'other' } },
      { metadata: {} },
      { client_reference_id: 'co_lookalike', metadata: {} },
    ];
    for (const foreign of foreigners) {
      const session = await stripe.checkout.sessions.create({
        mode: 'payment',
        allowed_payment_method_types: ['card'],
        line_items: [
          { quantity: 1, price_data: { currency: 'usd', unit_amount: 700, product_data: { name: 'Mug' } } },
        ],
        success_url: 'https://other.example/done',
        ...foreign,
      });
      const paid = await fetch(`${session.url}/card`, { method: 'POST', redirect: 'manual' });
      expect(paid.status).toBe(303);
      const [completed] = await eventually('foreign checkout.session.completed', async () => {
        const found = receiver.of('checkout.session.completed', session.id);
        return found.length > 0 && found;
      });
      expect(
        await harness.provider.verifyNotification(
          webhook(completed!.rawBody, completed!.headers['stripe-signature']!),
        ),
      ).toEqual({
        kind: 'ignored',
        reason: expect.stringContaining('not ours'),
      });
      // Its refund (no refundNo of ours) and the charge's refunded event: ignored too.
      const before = receiver.received.length;
      await stripe.refunds.create({
        payment_intent: (await stripe.checkout.sessions.retrieve(session.id)).payment_intent as string,
      });
      for (const type of ['refund.created', 'refund.updated', 'charge.refunded']) {
        const [event] = await eventually(`foreign ${type}`, async () => {
          const found = receiver.received.slice(before).filter((entry) => entry.event.type === type);
          return found.length > 0 && found;
        });
        expect(await status(webhook(event!.rawBody, event!.headers['stripe-signature']!))).toBe('ignored');
      }
    }
    // A signed event for a session Stripe never showed us is not read back at all: ignored, not a 400.
    const crafted = JSON.stringify({
      id: 'evt_foreign',
      object: 'event',
      type: 'checkout.session.completed',
      data: {
        object: { id: 'cs_test_someone_else', object: 'checkout.session', client_reference_id: 'cart-9' },
      },
    });
    expect(await status(signed(crafted))).toBe('ignored');
    const refundEvent = JSON.stringify({
      id: 'evt_foreign_refund',
      object: 'event',
      type: 'refund.updated',
      data: { object: { id: 're_test_someone_else', object: 'refund', metadata: {} } },
    });
    expect(await status(signed(refundEvent))).toBe('ignored');
    // Ours still counts: our number and our metadata.
    const request = trade();
    const created = await card().createTrade(request);
    const mine = JSON.stringify({
      id: 'evt_mine',
      object: 'event',
      type: 'checkout.session.completed',
      data: {
        object: {
          id: created.providerTradeNo,
          object: 'checkout.session',
          client_reference_id: request.channelOrderNo,
          metadata: { channelOrderNo: request.channelOrderNo },
        },
      },
    });
    expect(await harness.provider.verifyNotification(signed(mine))).toMatchObject({
      kind: 'payment',
      channelOrderNo: request.channelOrderNo,
      outcome: { status: 'PAYING' },
    });
  });

  it('a wrong key is a refusal, a 5xx a failure; bad settings stop the start', async () => {
    const impostor = makeProvider({ STRIPE_SECRET_KEY: 'sk_test_wrong' });
    await expect(impostor.channels[0]!.createTrade(trade())).rejects.toBeInstanceOf(ChannelRejectedError);
    await faults({ queryErrorRate: 1 });
    await expect(card().queryTrade(ref('co_any', 'cs_test_any'))).rejects.toBeInstanceOf(
      ChannelUnavailableError,
    );
    expect(() => makeProvider({ STRIPE_SECRET_KEY: 'pk_test_public' })).toThrow(/STRIPE_SECRET_KEY/);
    expect(() => makeProvider({ STRIPE_WEBHOOK_SECRET: 'secret' })).toThrow(/STRIPE_WEBHOOK_SECRET/);
    expect(card().supportsCurrency('JPY')).toBe(true);
    expect(card().supportsCurrency('KWD')).toBe(false);
    expect(boleto().supportsCurrency('USD')).toBe(false);
  });
});
