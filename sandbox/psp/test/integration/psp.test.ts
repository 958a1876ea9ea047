import { verifySignature } from '@payments/platform';
import { payActionTarget } from '@payments/core';
import { SandboxProvider } from '@payments/providers';
import { eventually, providerHarness, sleep } from '@payments/testkit';
import { pspSandbox } from '../../src/entry';
import { buildPspServer } from '../../src/server';
import { NotifyReceiver } from './receiver';

const SECRET = 'psp_it_secret';

describe('sandbox PSP over real HTTP', () => {
  const psp = providerHarness({
    entry: pspSandbox,
    // Refunds that end sooner than the sandbox's default, under this test's own secret.
    build: () => buildPspServer({ secret: SECRET, refundDelayMs: 100 }),
    env: { PSP_SECRET: SECRET },
    name: 'psp',
    receiver: new NotifyReceiver(),
    makeProvider: (config, kit) => new SandboxProvider(config, kit, ['sandbox-wallet']),
    contentType: 'application/json',
  });
  const { receiver, ref, notification } = psp;
  let sequence = 0;

  beforeAll(() => psp.start());

  afterEach(async () => {
    await psp.faults(undefined);
    await psp.control('DELETE', '/sandbox/state');
    receiver.reset();
  });

  afterAll(() => psp.stop());

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Answer = { status: number; body: any; ms: number };

  async function call(
    method: string,
    path: string,
    body?: unknown,
    secret: string | null = null,
  ): Promise<Answer> {
    const started = Date.now();
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (secret !== null) headers.authorization = `Bearer ${secret}`;
    const response = await fetch(`${psp.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, ms: Date.now() - started };
  }
  const api = (method: string, path: string, body?: unknown) => call(method, path, body, SECRET);
  const pay = (channelOrderNo: string) => call('POST', `/sandbox/trades/${channelOrderNo}/pay`);
  const setFaults = async (faults: Record<string, unknown>) => {
    const answer = await call('PUT', '/sandbox/faults', faults);
    expect(answer.status).toBe(200);
  };

  function tradeBody(overrides: Record<string, unknown> = {}) {
    sequence += 1;
    return {
      channelOrderNo: `co_${sequence}`,
      merchantOrderNo: `mo_${sequence}`,
      channel: 'sandbox-wallet',
      amount: 1250,
      currency: 'EUR',
      subject: 'Two books',
      expireAt: new Date(Date.now() + 15 * 60_000).toISOString(),
      notifyUrl: receiver.url,
      ...overrides,
    };
  }

  async function createTrade(overrides: Record<string, unknown> = {}) {
    const body = tradeBody(overrides);
    const answer = await api('POST', '/api/trades', body);
    expect(answer.status).toBe(200);
    return { ...body, ...(answer.body as { tradeNo: string; payUrl: string }) };
  }

  async function paidTrade(overrides: Record<string, unknown> = {}) {
    const trade = await createTrade(overrides);
    expect((await pay(trade.channelOrderNo)).status).toBe(200);
    return trade;
  }

  describe('authentication', () => {
    it('answers 401 to the provider API without the right Bearer secret', async () => {
      const trade = tradeBody();
      for (const secret of [null, 'wrong', `${SECRET}x`]) {
        const answer = await call('POST', '/api/trades', trade, secret);
        expect(answer.status).toBe(401);
        expect(answer.body.error.code).toBe('UNAUTHORIZED');
      }
      expect((await call('GET', '/api/trades/whatever')).status).toBe(401);
      expect((await call('GET', '/api/refunds/whatever')).status).toBe(401);
      expect((await call('GET', '/sandbox/ledger')).body).toEqual({ trades: [], refunds: [] });
      expect((await call('GET', '/healthz')).status).toBe(200);
    });
  });

  describe('trades', () => {
    it('creates a trade idempotently and refuses a conflicting repeat', async () => {
      const body = tradeBody();
      const first = await api('POST', '/api/trades', body);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        channelOrderNo: body.channelOrderNo,
        merchantOrderNo: body.merchantOrderNo,
        channel: 'sandbox-wallet',
        amount: 1250,
        currency: 'EUR',
        status: 'WAITING',
        payUrl: `${psp.base}/pay/${body.channelOrderNo}`,
        expireAt: body.expireAt,
        paidAt: null,
      });
      const again = await api('POST', '/api/trades', body);
      expect(again.body).toEqual(first.body);

      const conflict = await api('POST', '/api/trades', { ...body, amount: 1251 });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error.code).toBe('TRADE_CONFLICT');
      expect((await api('GET', `/api/trades/${body.channelOrderNo}`)).body.amount).toBe(1250);
    });

    it('refuses an unknown channel and bad bodies', async () => {
      const unknown = await api('POST', '/api/trades', tradeBody({ channel: 'paypal' }));
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe('UNKNOWN_CHANNEL');
      for (const bad of [
        { amount: 12.5 },
        { amount: -1 },
        { amount: '1250' },
        { expireAt: 'tomorrow' },
        { notifyUrl: 'nope' },
      ]) {
        const answer = await api('POST', '/api/trades', tradeBody(bad));
        expect([answer.status, answer.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
      }
      const malformed = await fetch(`${psp.base}/api/trades`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: '{"channelOrderNo":',
      });
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
      expect((await call('GET', '/sandbox/ledger')).body.trades).toHaveLength(0);
    });

    it('queries a trade, and 404s an unknown one', async () => {
      const trade = await createTrade();
      const waiting = await api('GET', `/api/trades/${trade.channelOrderNo}`);
      expect(waiting.body).toMatchObject({ status: 'WAITING', paidAt: null, tradeNo: trade.tradeNo });
      await pay(trade.channelOrderNo);
      const paid = await api('GET', `/api/trades/${trade.channelOrderNo}`);
      expect(paid.body.status).toBe('PAID');
      expect(Date.parse(paid.body.paidAt)).toBeGreaterThan(Date.now() - 5000);
      const missing = await api('GET', '/api/trades/nope');
      expect([missing.status, missing.body.error.code]).toEqual([404, 'TRADE_NOT_FOUND']);
      // The ledger counts the queries each trade received (a test sees a poll step made twice).
      const ledger = await call('GET', `/sandbox/ledger?merchantOrderNo=${trade.merchantOrderNo}`);
      expect(ledger.body.trades[0].queries).toBe(2);
    });

    it('pays once; refuses to pay a closed or expired trade', async () => {
      const trade = await createTrade();
      const paid = await pay(trade.channelOrderNo);
      expect(paid.body).toMatchObject({ status: 'PAID', channelOrderNo: trade.channelOrderNo });
      const twice = await pay(trade.channelOrderNo);
      expect([twice.status, twice.body.error.code]).toEqual([409, 'ALREADY_PAID']);

      const closed = await createTrade();
      expect((await api('POST', `/api/trades/${closed.channelOrderNo}/close`)).body.status).toBe('CLOSED');
      const late = await pay(closed.channelOrderNo);
      expect([late.status, late.body.error.code]).toEqual([409, 'TRADE_CLOSED']);

      const expired = await createTrade({ expireAt: new Date(Date.now() - 1000).toISOString() });
      expect((await api('GET', `/api/trades/${expired.channelOrderNo}`)).body.status).toBe('EXPIRED');
      const tooLate = await pay(expired.channelOrderNo);
      expect([tooLate.status, tooLate.body.error.code]).toEqual([409, 'TRADE_EXPIRED']);
      expect((await pay('nope')).status).toBe(404);
    });

    it('closes idempotently; a paid trade answers TRADE_PAID with the trade; a voucher cannot close', async () => {
      const trade = await createTrade({ channel: 'sandbox-qr' });
      const closed = await api('POST', `/api/trades/${trade.channelOrderNo}/close`);
      expect([closed.status, closed.body.status]).toEqual([200, 'CLOSED']);
      expect((await api('POST', `/api/trades/${trade.channelOrderNo}/close`)).body.status).toBe('CLOSED');

      const expired = await createTrade({ expireAt: new Date(Date.now() - 1000).toISOString() });
      expect((await api('POST', `/api/trades/${expired.channelOrderNo}/close`)).body.status).toBe('CLOSED');

      const paid = await paidTrade();
      const refused = await api('POST', `/api/trades/${paid.channelOrderNo}/close`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('TRADE_PAID');
      expect(refused.body.trade).toMatchObject({
        channelOrderNo: paid.channelOrderNo,
        status: 'PAID',
        amount: 1250,
      });

      const voucher = await createTrade({ channel: 'sandbox-voucher' });
      const notClosable = await api('POST', `/api/trades/${voucher.channelOrderNo}/close`);
      expect([notClosable.status, notClosable.body.error.code]).toEqual([422, 'CLOSE_NOT_SUPPORTED']);
      expect((await pay(voucher.channelOrderNo)).status).toBe(200);

      expect((await api('POST', '/api/trades/nope/close')).status).toBe(404);
    });
  });

  describe('notifies', () => {
    it('delivers one signed notify per payment; a tampered body does not verify', async () => {
      const trade = await paidTrade();
      const [notify] = await eventually(
        'notify',
        async () => receiver.for(trade.channelOrderNo).length > 0 && receiver.for(trade.channelOrderNo),
      );
      expect(notify!.contentType).toMatch(/^application\/json/);
      expect(notify!.body).toEqual({
        notifyId: expect.stringMatching(/^ntf_/),
        channelOrderNo: trade.channelOrderNo,
        tradeNo: trade.tradeNo,
        merchantOrderNo: trade.merchantOrderNo,
        channel: 'sandbox-wallet',
        amount: 1250,
        currency: 'EUR',
        status: 'PAID',
        paidAt: expect.any(String),
      });
      expect(verifySignature(SECRET, notify!.rawBody, notify!.signature)).toEqual({ valid: true });
      expect(
        verifySignature(SECRET, notify!.rawBody.replace('"amount":1250', '"amount":1'), notify!.signature)
          .valid,
      ).toBe(false);
      expect(verifySignature('another_secret', notify!.rawBody, notify!.signature).valid).toBe(false);
      await sleep(300);
      expect(receiver.for(trade.channelOrderNo)).toHaveLength(1);
    });

    it('retries, re-signed, until the merchant answers 2xx', async () => {
      receiver.answers = [500, 503, 500];
      const trade = await paidTrade();
      await eventually('4 deliveries', async () => receiver.for(trade.channelOrderNo).length >= 4, 5000);
      const deliveries = receiver.for(trade.channelOrderNo);
      for (const delivery of deliveries)
        expect(verifySignature(SECRET, delivery.rawBody, delivery.signature).valid).toBe(true);
      expect(new Set(deliveries.map((delivery) => delivery.body.notifyId)).size).toBe(1);
      // The delays grow: 100ms, 250ms, 500ms.
      const gaps = deliveries.slice(1).map((delivery, index) => delivery.at - deliveries[index]!.at);
      expect(gaps[0]).toBeGreaterThanOrEqual(90);
      expect(gaps[2]).toBeGreaterThanOrEqual(450);
      await sleep(1200);
      expect(receiver.for(trade.channelOrderNo)).toHaveLength(4);
    });

    it('dropNotifyRate 1 sends nothing, and the notifies come back once reset', async () => {
      await setFaults({ dropNotifyRate: 1 });
      const dropped = await paidTrade();
      await sleep(500);
      expect(receiver.for(dropped.channelOrderNo)).toHaveLength(0);
      expect((await api('GET', `/api/trades/${dropped.channelOrderNo}`)).body.status).toBe('PAID');

      await call('DELETE', '/sandbox/faults');
      const sent = await paidTrade();
      await eventually('notify after reset', async () => receiver.for(sent.channelOrderNo).length === 1);
      expect(receiver.for(dropped.channelOrderNo)).toHaveLength(0);
    });

    it('duplicateNotifies delivers each notify twice, the same notification', async () => {
      await setFaults({ duplicateNotifies: true });
      const trade = await paidTrade();
      await eventually('two notifies', async () => receiver.for(trade.channelOrderNo).length >= 2);
      await sleep(300);
      const deliveries = receiver.for(trade.channelOrderNo);
      expect(deliveries).toHaveLength(2);
      expect(deliveries[0]!.rawBody).toBe(deliveries[1]!.rawBody);
      for (const delivery of deliveries)
        expect(verifySignature(SECRET, delivery.rawBody, delivery.signature).valid).toBe(true);
    });

    it('notifyDelayMs holds the first send back', async () => {
      await setFaults({ notifyDelayMs: 400 });
      const trade = await paidTrade();
      const paidAt = Date.now();
      await sleep(200);
      expect(receiver.for(trade.channelOrderNo)).toHaveLength(0);
      const [notify] = await eventually(
        'delayed notify',
        async () => receiver.for(trade.channelOrderNo).length > 0 && receiver.for(trade.channelOrderNo),
      );
      expect(notify!.at - paidAt).toBeGreaterThanOrEqual(350);
    });

    it('clearing the state cancels pending notifies', async () => {
      receiver.answers = [500];
      const trade = await paidTrade();
      await eventually('first attempt', async () => receiver.for(trade.channelOrderNo).length === 1);
      await call('DELETE', '/sandbox/state');
      await sleep(400);
      expect(receiver.for(trade.channelOrderNo)).toHaveLength(1);
    });
  });

  describe('refunds', () => {
    it('goes PROCESSING then SUCCESS, idempotently, and never beyond the trade amount', async () => {
      const trade = await paidTrade();
      const body = { refundNo: 'rf_1', channelOrderNo: trade.channelOrderNo, amount: 1000 };
      const created = await api('POST', '/api/refunds', body);
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ ...body, status: 'PROCESSING', createdAt: expect.any(String) });

      const again = await api('POST', '/api/refunds', body);
      expect(again.body).toEqual(created.body);
      const conflict = await api('POST', '/api/refunds', { ...body, amount: 999 });
      expect([conflict.status, conflict.body.error.code]).toEqual([409, 'REFUND_CONFLICT']);
      const tooMuch = await api('POST', '/api/refunds', {
        refundNo: 'rf_2',
        channelOrderNo: trade.channelOrderNo,
        amount: 251,
      });
      expect([tooMuch.status, tooMuch.body.error.code]).toEqual([409, 'REFUND_EXCEEDS_AMOUNT']);

      await eventually(
        'refund SUCCESS',
        async () => (await api('GET', '/api/refunds/rf_1')).body.status === 'SUCCESS',
        3000,
      );
      const rest = await api('POST', '/api/refunds', {
        refundNo: 'rf_3',
        channelOrderNo: trade.channelOrderNo,
        amount: 250,
      });
      expect(rest.body.status).toBe('PROCESSING');

      const ledger = await call('GET', `/sandbox/ledger?merchantOrderNo=${trade.merchantOrderNo}`);
      expect(ledger.body.refunds).toHaveLength(2);
      const missing = await api('GET', '/api/refunds/nope');
      expect([missing.status, missing.body.error.code]).toEqual([404, 'REFUND_NOT_FOUND']);
    });

    it('refuses to refund a trade that is not paid', async () => {
      const trade = await createTrade();
      const answer = await api('POST', '/api/refunds', {
        refundNo: 'rf_w',
        channelOrderNo: trade.channelOrderNo,
        amount: 1,
      });
      expect([answer.status, answer.body.error.code]).toEqual([409, 'TRADE_NOT_PAID']);
      expect((await api('GET', '/api/refunds/rf_w')).status).toBe(404);
    });

    it('refundFailRate ends a refund FAILED; refundErrorRate answers 500 and records nothing', async () => {
      const trade = await paidTrade();
      await setFaults({ refundFailRate: 1 });
      expect(
        (
          await api('POST', '/api/refunds', {
            refundNo: 'rf_f',
            channelOrderNo: trade.channelOrderNo,
            amount: 1250,
          })
        ).status,
      ).toBe(200);
      await eventually(
        'refund FAILED',
        async () => (await api('GET', '/api/refunds/rf_f')).body.status === 'FAILED',
        3000,
      );

      await setFaults({ refundFailRate: 0, refundErrorRate: 1 });
      const faulted = await api('POST', '/api/refunds', {
        refundNo: 'rf_e',
        channelOrderNo: trade.channelOrderNo,
        amount: 1250,
      });
      expect([faulted.status, faulted.body.error.code]).toEqual([500, 'SANDBOX_FAULT']);
      expect((await api('GET', '/api/refunds/rf_e')).status).toBe(404);

      // The FAILED refund freed the amount again.
      await call('DELETE', '/sandbox/faults');
      const retry = await api('POST', '/api/refunds', {
        refundNo: 'rf_e',
        channelOrderNo: trade.channelOrderNo,
        amount: 1250,
      });
      expect(retry.status).toBe(200);
    });
  });

  describe('ledger and state', () => {
    it('lists trades and refunds, filtered by merchant order', async () => {
      const paid = await paidTrade({ amount: 500 });
      const waiting = await createTrade({ channel: 'sandbox-voucher', amount: 700 });
      await api('POST', '/api/refunds', {
        refundNo: 'rf_l',
        channelOrderNo: paid.channelOrderNo,
        amount: 200,
      });

      const one = await call('GET', `/sandbox/ledger?merchantOrderNo=${paid.merchantOrderNo}`);
      expect(one.body).toEqual({
        trades: [
          {
            channelOrderNo: paid.channelOrderNo,
            merchantOrderNo: paid.merchantOrderNo,
            channel: 'sandbox-wallet',
            amount: 500,
            currency: 'EUR',
            status: 'PAID',
            paidAt: expect.any(String),
            queries: 0,
          },
        ],
        refunds: [
          { refundNo: 'rf_l', channelOrderNo: paid.channelOrderNo, amount: 200, status: 'PROCESSING' },
        ],
      });
      const other = await call('GET', `/sandbox/ledger?merchantOrderNo=${waiting.merchantOrderNo}`);
      expect(other.body).toEqual({
        trades: [
          expect.objectContaining({
            channelOrderNo: waiting.channelOrderNo,
            status: 'WAITING',
            paidAt: null,
          }),
        ],
        refunds: [],
      });
      expect((await call('GET', '/sandbox/ledger')).body.trades).toHaveLength(2);

      expect((await call('DELETE', '/sandbox/state')).status).toBe(200);
      expect((await call('GET', '/sandbox/ledger')).body).toEqual({ trades: [], refunds: [] });
    });
  });

  describe('faults', () => {
    it('merges on PUT, validates, and resets on DELETE', async () => {
      const zero = (await call('GET', '/sandbox/faults')).body;
      expect(zero).toMatchObject({
        dropNotifyRate: 0,
        duplicateNotifies: false,
        closeLatencyMs: 0,
        refundFailRate: 0,
      });
      await setFaults({ queryErrorRate: 0.5 });
      const merged = await call('PUT', '/sandbox/faults', { duplicateNotifies: true, notifyDelayMs: 10 });
      expect(merged.body).toEqual({
        ...zero,
        queryErrorRate: 0.5,
        duplicateNotifies: true,
        notifyDelayMs: 10,
      });

      for (const bad of [
        { queryErrorRate: 2 },
        { dropNotifyRate: -0.1 },
        { notifyDelayMs: 1.5 },
        { duplicateNotifies: 'yes' },
        { typo: 1 },
      ]) {
        const answer = await call('PUT', '/sandbox/faults', bad);
        expect([answer.status, answer.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
      }
      expect((await call('GET', '/sandbox/faults')).body).toEqual(merged.body);

      expect((await call('DELETE', '/sandbox/faults')).body).toEqual(zero);
      expect((await call('GET', '/sandbox/faults')).body).toEqual(zero);
    });

    it('createErrorRate fails creates without creating', async () => {
      await setFaults({ createErrorRate: 1 });
      const body = tradeBody();
      const answer = await api('POST', '/api/trades', body);
      expect([answer.status, answer.body.error.code]).toEqual([500, 'SANDBOX_FAULT']);
      await call('DELETE', '/sandbox/faults');
      expect((await api('GET', `/api/trades/${body.channelOrderNo}`)).status).toBe(404);
    });

    it('query and close faults: errors and latency', async () => {
      const trade = await createTrade();
      await setFaults({ queryErrorRate: 1, closeErrorRate: 1 });
      expect((await api('GET', `/api/trades/${trade.channelOrderNo}`)).status).toBe(500);
      expect((await api('POST', `/api/trades/${trade.channelOrderNo}/close`)).status).toBe(500);
      expect((await api('GET', `/api/trades/${trade.channelOrderNo}`)).body.status).toBeUndefined();

      await setFaults({ queryErrorRate: 0, closeErrorRate: 0, queryLatencyMs: 250, closeLatencyMs: 250 });
      const slowQuery = await api('GET', `/api/trades/${trade.channelOrderNo}`);
      expect([slowQuery.status, slowQuery.body.status]).toEqual([200, 'WAITING']);
      expect(slowQuery.ms).toBeGreaterThanOrEqual(240);
      const slowClose = await api('POST', `/api/trades/${trade.channelOrderNo}/close`);
      expect([slowClose.status, slowClose.body.status]).toEqual([200, 'CLOSED']);
      expect(slowClose.ms).toBeGreaterThanOrEqual(240);
    });
  });

  describe('the common sandbox provider against this server', () => {
    it('creates, queries, verifies the notify, closes and refunds', async () => {
      const { provider } = psp;
      const channel = psp.channel('sandbox-wallet');
      const trade = (body: ReturnType<typeof tradeBody>) => ({
        channelOrderNo: body.channelOrderNo,
        merchantOrderNo: body.merchantOrderNo,
        money: { amount: body.amount, currency: body.currency },
        subject: body.subject,
        notifyUrl: body.notifyUrl,
        expireAt: new Date(body.expireAt),
        requestedAt: new Date(),
      });
      const body = tradeBody();
      const created = await channel.createTrade(trade(body));
      expect(created.payAction).toMatchObject({ type: 'redirect' });
      expect(payActionTarget(created.payAction)).toContain(body.channelOrderNo);
      expect(await channel.queryTrade(ref(body.channelOrderNo))).toEqual({ status: 'PAYING' });
      expect(await channel.queryTrade(ref('nope'))).toBe('NOT_FOUND');

      await pay(body.channelOrderNo);
      const [notify] = await eventually(
        'notify',
        async () => receiver.for(body.channelOrderNo).length > 0 && receiver.for(body.channelOrderNo),
      );
      const request = (signature: string) =>
        notification(notify!.rawBody, { 'x-sandbox-signature': signature });
      expect(await provider.verifyNotification(request(notify!.signature!))).toMatchObject({
        kind: 'payment',
        channelOrderNo: body.channelOrderNo,
        outcome: { status: 'SUCCESS', amount: 1250, currency: 'EUR' },
      });
      await expect(
        // One hex digit changed (never to itself: a fixed replacement passes when it matches).
        provider.verifyNotification(
          request(
            notify!.signature!.replace(/v1=(.)/, (_, digit: string) => `v1=${digit === '0' ? '1' : '0'}`),
          ),
        ),
      ).rejects.toThrow(/signature/);
      expect((await channel.closeTrade(ref(body.channelOrderNo))).result).toBe('ALREADY_PAID');

      expect(
        await channel.refund({
          refundNo: 'rf_a',
          attempt: ref(body.channelOrderNo),
          money: { amount: 1250, currency: 'EUR' },
          paid: { amount: 1250, currency: 'EUR' },
          notifyUrl: 'http://127.0.0.1:1/v1/notify/sandbox-wallet',
        }),
      ).toBe('PROCESSING');
      await eventually(
        'refund SUCCESS',
        async () => (await channel.queryRefund('rf_a', ref(body.channelOrderNo))) === 'SUCCESS',
        3000,
      );

      const other = tradeBody();
      await channel.createTrade(trade(other));
      expect(await channel.closeTrade(ref(other.channelOrderNo))).toEqual({ result: 'CLOSED' });
      expect(await channel.queryTrade(ref(other.channelOrderNo))).toEqual({ status: 'CLOSED' });
    });
  });
});
