/**
 * The official stripe SDK, through our Stripe provider, against the Stripe sandbox over real HTTP:
 * Checkout Sessions for cards and Boleto, idempotency keys, amounts in each currency's smallest
 * unit, session expiry, refunds (and Boleto's refusal), signed webhooks and their retries.
 */
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import Stripe from 'stripe';
import {
  ChannelRejectedError,
  ChannelUnavailableError,
  createLogger,
  createRegistry,
  loadConfig,
  NotifyRejectedError,
  payActionTarget,
  providerKit,
  SANDBOX_STRIPE_SECRET_KEY,
  SANDBOX_STRIPE_WEBHOOK_SECRET,
  sessionExpiresAt,
  StripeProvider,
  type CreateTradeRequest,
} from '@payments/common';
import { eventually, sleep } from '@payments/common/src/testing';
import { parseForm } from '../../src/form';
import { buildStripeSandbox } from '../../src/server';

interface Received {
  headers: Record<string, string>;
  rawBody: string;
  event: { id: string; type: string; data: { object: { id: string; client_reference_id?: string } } };
}

/** The account's webhook endpoint: records events raw, answers as told. */
class WebhookReceiver {
  readonly received: Received[] = [];
  /** Statuses to answer for events of a type, in order; once used up, 200. */
  answers: Record<string, number[]> = {};
  url = '';
  private readonly app: FastifyInstance = Fastify({ logger: false });

  async start(): Promise<void> {
    this.app.removeContentTypeParser('application/json');
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, body, done) =>
      done(null, body),
    );
    this.app.post('/webhook', async (request, reply) => {
      const rawBody = request.body as string;
      const event = JSON.parse(rawBody);
      this.received.push({ headers: request.headers as Record<string, string>, rawBody, event });
      return reply.code(this.answers[event.type]?.shift() ?? 200).send({ received: true });
    });
    await this.app.listen({ port: 0, host: '127.0.0.1' });
    this.url = `http://127.0.0.1:${(this.app.server.address() as { port: number }).port}/webhook`;
  }

  of(type: string, sessionOrObjectId?: string) {
    return this.received.filter(
      (entry) =>
        entry.event.type === type && (!sessionOrObjectId || entry.event.data.object.id === sessionOrObjectId),
    );
  }

  stop() {
    return this.app.close();
  }
}

describe('Stripe: the stripe SDK against the sandbox', () => {
  let sandbox: FastifyInstance;
  let base: string;
  const receiver = new WebhookReceiver();
  let provider: StripeProvider;
  let sequence = 0;
  const requests: { method: string; url: string; body: string }[] = [];

  const makeProvider = (env: Record<string, string> = {}) => {
    const config = loadConfig({ STRIPE_API_BASE: base, BREAKER_TIMEOUT: '2s', ...env });
    return new StripeProvider(
      config,
      providerKit(
        config,
        createRegistry(`stripe-test-${(sequence += 1)}`),
        createLogger('stripe-test', 'silent'),
      ),
      ['stripe-card', 'stripe-boleto'],
    );
  };
  const card = () => provider.channels.find((channel) => channel.name === 'stripe-card')!;
  const boleto = () => provider.channels.find((channel) => channel.name === 'stripe-boleto')!;
  const trade = (overrides: Partial<CreateTradeRequest> = {}): CreateTradeRequest => {
    sequence += 1;
    return {
      channelOrderNo: `co_st_${Date.now().toString(36)}_${sequence}`,
      merchantOrderNo: `mo-st-${sequence}`,
      money: { amount: 1999, currency: 'USD' },
      subject: 'Blue teapot',
      expireAt: new Date(Date.now() + 2 * 3600_000),
      notifyUrl: 'http://127.0.0.1:1/v1/notify/stripe',
      returnUrl: 'https://shop.example/return',
      ...overrides,
    };
  };
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const faults = async (value: Record<string, unknown> | undefined) => {
    await control('DELETE', '/sandbox/faults');
    if (value) await control('PUT', '/sandbox/faults', value);
  };
  const ledger = async (merchantOrderNo: string) =>
    JSON.parse((await control('GET', `/sandbox/ledger?merchantOrderNo=${merchantOrderNo}`)).text);
  /** A reference as the gateway stores it: our number and the session's id. */
  const ref = (channelOrderNo: string, sessionId: string | null) => ({
    channelOrderNo,
    providerTradeNo: sessionId,
  });
  /* eslint-disable @typescript-eslint/no-explicit-any -- the last session create as Stripe read it: any shape */
  const lastCreate = () =>
    parseForm(requests.filter((entry) => entry.url === '/v1/checkout/sessions').at(-1)!.body) as Record<
      string,
      any
    >;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  const webhook = (payload: string, header: string) => ({
    rawBody: Buffer.from(payload),
    contentType: 'application/json',
    headers: { 'stripe-signature': header },
  });
  const signed = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
    webhook(
      payload,
      Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: options.secret ?? SANDBOX_STRIPE_WEBHOOK_SECRET,
        timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
      }),
    );

  beforeAll(async () => {
    await receiver.start();
    sandbox = buildStripeSandbox({
      secretKey: SANDBOX_STRIPE_SECRET_KEY,
      webhookSecret: SANDBOX_STRIPE_WEBHOOK_SECRET,
      webhookUrl: () => receiver.url,
      notifyTimeScale: 0.001,
    });
    sandbox.addHook('preHandler', async (request) => {
      if (request.url.startsWith('/v1/'))
        requests.push({
          method: request.method,
          url: request.url.split('?')[0]!,
          body: String(request.body ?? ''),
        });
    });
    await sandbox.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(sandbox.server.address() as { port: number }).port}`;
    provider = makeProvider();
  });
  afterEach(async () => {
    await faults(undefined);
    receiver.answers = {};
  });
  afterAll(async () => {
    await sandbox.close();
    await receiver.stop();
  });

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
    const voucherPage = await (await fetch(`${base}${issued.headers.get('location')}`)).text();
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
      port: Number(new URL(base).port),
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
    expect(await provider.verifyNotification(real)).toEqual({
      kind: 'payment',
      channelOrderNo: request.channelOrderNo,
      providerTradeNo: created.providerTradeNo,
      outcome: expect.objectContaining({ status: 'SUCCESS', amount: 1999, currency: 'USD' }),
    });
    const status = (notification: ReturnType<typeof webhook>) =>
      provider.verifyNotification(notification).then(
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
      await provider.verifyNotification(
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
    expect(await provider.verifyNotification(signed(JSON.stringify(stale)))).toMatchObject({
      outcome: { status: 'SUCCESS' },
    });
    expect(provider.acknowledge({ accepted: true })).toMatchObject({ status: 200 });
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
      await provider.verifyNotification(webhook(updated!.rawBody, updated!.headers['stripe-signature']!)),
    ).toEqual({
      kind: 'refund',
      refunds: [{ refundNo: 'rf_hook', status: 'SUCCESS' }],
    });
    const [refunded] = await eventually('charge.refunded', async () => {
      const found = receiver.received.slice(before).filter((entry) => entry.event.type === 'charge.refunded');
      return found.length > 0 && found;
    });
    expect(
      await provider.verifyNotification(webhook(refunded!.rawBody, refunded!.headers['stripe-signature']!)),
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
