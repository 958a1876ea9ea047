/**
 * Stripe's statement through our provider and the official stripe SDK against the sandbox: the
 * day's balance transactions listed by `created` (auto-paginated, source and payment intent
 * expanded), classified by reporting_category (a Boleto payment posts as `type: payment`), followed
 * to our numbers, kept as gzip JSON lines and read back as exact minor units; a listing cut short
 * fails the fetch.
 */
import Stripe from 'stripe';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { CreateTradeRequest } from '@payments/core';
import { StripeProvider } from '@payments/providers';
import { eventually, linesOf, statementSandbox } from '@payments/testkit';
import { SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET, sandboxStripeEnv } from '../../src/keys';
import { buildStripeSandbox } from '../../src/server';

describe('Stripe statement: balance transactions through the stripe SDK against the sandbox', () => {
  const stripe = statementSandbox({
    name: 'stripe',
    build: () =>
      buildStripeSandbox({
        secretKey: SANDBOX_STRIPE_SECRET_KEY,
        webhookSecret: SANDBOX_STRIPE_WEBHOOK_SECRET,
        webhookUrl: () => 'http://127.0.0.1:9/webhooks',
        notifyTimeScale: 0.001,
      }),
    env: sandboxStripeEnv,
    makeProvider: (config, kit) => new StripeProvider(config, kit, ['stripe-card', 'stripe-boleto']),
  });
  const { control, providerFaults, refusal } = stripe;
  const today = () => new Date().toISOString().slice(0, 10);
  let sequence = 0;
  const trade = (amount: number, currency: string): CreateTradeRequest => ({
    channelOrderNo: `co_sts_${Date.now().toString(36)}_${(sequence += 1)}`,
    merchantOrderNo: `mo-sts-${sequence}`,
    money: { amount, currency },
    subject: 'Blue teapot',
    expireAt: new Date(Date.now() + 2 * 3600_000),
    notifyUrl: 'http://127.0.0.1:1/v1/notify/stripe',
    returnUrl: 'https://shop.example/return',
    requestedAt: new Date(),
  });
  const paid: CreateTradeRequest[] = [];
  const sessions: string[] = [];
  const intents: string[] = [];

  beforeAll(async () => {
    await stripe.start();
    const channel = (name: string) => stripe.provider.channels.find((candidate) => candidate.name === name)!;
    for (const request of [trade(1999, 'USD'), trade(1, 'USD')]) {
      sessions.push((await channel('stripe-card').createTrade(request)).providerTradeNo!);
      expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(200);
      paid.push(request);
    }
    const voucher = trade(15000, 'BRL');
    sessions.push((await channel('stripe-boleto').createTrade(voucher)).providerTradeNo!);
    expect((await control('POST', `/sandbox/trades/${voucher.channelOrderNo}/voucher`)).status).toBe(200);
    expect((await control('POST', `/sandbox/trades/${voucher.channelOrderNo}/pay`)).status).toBe(200);
    paid.push(voucher);
    // The payment intents, as the SDK sees each session's.
    const sdk = new Stripe(SANDBOX_STRIPE_SECRET_KEY, {
      host: '127.0.0.1',
      port: Number(new URL(stripe.base).port),
      protocol: 'http',
      maxNetworkRetries: 0,
      telemetry: false,
    });
    for (const session of sessions)
      intents.push((await sdk.checkout.sessions.retrieve(session)).payment_intent as string);
    const attempt = { channelOrderNo: paid[0]!.channelOrderNo, providerTradeNo: sessions[0]! };
    const refund = await channel('stripe-card').refund({
      refundNo: 'rf_sts_part',
      attempt,
      money: { amount: 500, currency: 'USD' },
      paid: paid[0]!.money,
      notifyUrl: 'http://127.0.0.1:1/v1/notify/stripe',
    });
    expect(['PROCESSING', 'SUCCESS']).toContain(refund);
    await eventually(
      'the refund settled',
      async () => (await channel('stripe-card').queryRefund('rf_sts_part', attempt)) === 'SUCCESS',
    );
  });
  afterEach(async () => {
    await control('DELETE', '/sandbox/faults');
  });
  afterAll(() => stripe.stop());

  it("reads the day's payments (card and Boleto) and refunds, followed to our numbers, in exact minor units", async () => {
    const statement = await stripe.provider.statements.fetchStatement(today());
    expect(statement).toMatchObject({ provider: 'stripe', date: today(), summary: null });
    // Spooled as written (a file, never a Buffer held), with its SHA-256.
    expect(Buffer.isBuffer(statement.raw)).toBe(false);
    const raw = await readFile(statement.raw.path);
    expect(statement.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    // Kept as Stripe answered: one balance transaction per JSON line, its source expanded.
    const kept = gunzipSync(raw)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(kept).toHaveLength(4);
    expect(kept.map((record) => record.balance_transaction.type).sort()).toEqual([
      'charge',
      'charge',
      'payment',
      'refund',
    ]);

    const lines = await linesOf(statement.lines());
    expect(lines).toHaveLength(4);
    const payment = (index: number) =>
      lines.find((line) => line.kind === 'PAYMENT' && line.channelOrderNo === paid[index]!.channelOrderNo);
    // Card fees 2.9% + 30 (1999 → 88; 1 → 30); Boleto a flat 345 centavos, though it posts as `payment`.
    expect(payment(0)).toMatchObject({ amount: 1999, currency: 'USD', fee: 88, providerTradeNo: intents[0] });
    expect(payment(1)).toMatchObject({ amount: 1, currency: 'USD', fee: 30, providerTradeNo: intents[1] });
    expect(payment(2)).toMatchObject({
      amount: 15000,
      currency: 'BRL',
      fee: 345,
      providerTradeNo: intents[2],
    });
    expect(lines.find((line) => line.kind === 'REFUND')).toMatchObject({
      refundNo: 'rf_sts_part',
      channelOrderNo: paid[0]!.channelOrderNo,
      providerTradeNo: intents[0],
      providerRefundNo: expect.stringMatching(/^re_/),
      amount: 500,
      currency: 'USD',
      fee: 0,
    });
    for (const line of lines) expect(Math.abs(line.at.getTime() - Date.now())).toBeLessThan(120_000);
    // Disposed of, the spool is gone.
    await statement.dispose();
    expect(existsSync(statement.raw.path)).toBe(false);
  });

  it('a fee Stripe billed on its own (stripe_fee, reporting_category fee) is a FEE line: amount 0, its cost as the fee', async () => {
    expect((await control('POST', '/sandbox/stripe/fees', { amount: 0, currency: 'usd' })).status).toBe(400);
    const billed = await control('POST', '/sandbox/stripe/fees', { amount: 250, currency: 'usd' });
    expect(billed.status).toBe(201);
    const statement = await stripe.provider.statements.fetchStatement(today());
    try {
      const lines = await linesOf(statement.lines());
      expect(lines).toHaveLength(5);
      expect(lines.filter((line) => line.kind === 'FEE')).toEqual([
        expect.objectContaining({
          amount: 0,
          fee: 250,
          currency: 'USD',
          channelOrderNo: null,
          providerTradeNo: null,
          source: JSON.parse(billed.text).id,
        }),
      ]);
    } finally {
      await statement.dispose();
    }
  });

  it('another day holds none of them', async () => {
    const statement = await stripe.provider.statements.fetchStatement('2026-01-01');
    expect(await linesOf(statement.lines())).toEqual([]);
    await statement.dispose();
  });

  it('a day not begun yet: NOT_READY', async () => {
    expect(await refusal(new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10))).toBe('NOT_READY');
  });

  it('a listing that breaks off after its first page: FETCH_FAILED', async () => {
    await providerFaults({ statementTruncated: true });
    expect(await refusal(today())).toBe('FETCH_FAILED');
  });
});
