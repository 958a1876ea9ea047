/**
 * Alipay through the whole pipeline (gateway, poller, notifier, refunder in-process; the Alipay
 * sandbox and the PSP over real HTTP; the official alipay-sdk unchanged in between).
 */
import { generateKeyPairSync } from 'node:crypto';
import { SANDBOX_ALIPAY_APP_ID, SANDBOX_ALIPAY_PRIVATE_KEY } from '../../sandbox/alipay/src/keys';
import { eventually, sleep } from '@payments/testkit';
import { signV2 } from '../../sandbox/alipay/src/signing';
import { checkOrder, type Endpoints } from '../../scripts/lib/invariants';
import { payctl } from '../support/payctl';
import { api, API_KEY, applyBody, freePort, GatewayStack, orderNo } from '../support/stack';

describe('Alipay through the pipeline (real servers, alipay-sdk against the sandbox)', () => {
  const stack = new GatewayStack();
  let url: string;
  let endpoints: Endpoints;

  beforeAll(async () => {
    // A short refund schedule, so that a refund Alipay never confirms is held for a person in seconds.
    await stack.start({ REFUND_POLL_SCHEDULE: '300ms,600ms,1s' });
    url = (await stack.startGateway()).url;
    await stack.startPoller();
    await stack.startRefunder();
    await stack.startNotifier();
    await stack.listenToEvents();
    endpoints = {
      gatewayUrl: url,
      apiKey: API_KEY,
      pspUrl: stack.pspUrl,
      otherSandboxUrls: [stack.alipayUrl],
      orderServiceUrl: stack.orderServiceUrl,
    };
  });
  afterEach(() => stack.setFaults('alipay', undefined));
  afterAll(() => stack.stop());

  const alipayOrder = (no: string, overrides: Record<string, unknown> = {}) =>
    applyBody(no, { channel: 'alipay-qr', amount: 1999, ...overrides });
  const payment = async (no: string) => (await api(url, 'GET', `/v1/payments/${no}`)).body;
  const notify = async (fields: Record<string, string>, key = SANDBOX_ALIPAY_PRIVATE_KEY) => {
    const response = await fetch(`${url}/v1/notify/alipay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams(signV2(fields, key)).toString(),
    });
    return { status: response.status, body: await response.text() };
  };
  const paidFields = (channelOrderNo: string, overrides: Record<string, string> = {}) => ({
    notify_time: '2026-12-01 10:00:00',
    notify_type: 'trade_status_sync',
    notify_id: `n${Math.random().toString(36).slice(2)}`,
    app_id: SANDBOX_ALIPAY_APP_ID,
    charset: 'utf-8',
    version: '1.0',
    sign_type: 'RSA2',
    trade_no: '2026120122001000000000000001',
    out_trade_no: channelOrderNo,
    trade_status: 'TRADE_SUCCESS',
    total_amount: '19.99',
    gmt_payment: '2026-12-01 10:00:00',
    ...overrides,
  });

  it('QR: a qr pay action, paid at Alipay, settled by its notification, the shop told once', async () => {
    const no = orderNo('ali-qr');
    const applied = await api(url, 'POST', '/v1/payments', alipayOrder(no));
    expect(applied.status).toBe(201);
    const attempt = applied.body.attempt;
    expect(attempt.payAction).toEqual({ type: 'qr', content: attempt.payUrl });
    expect(await stack.pay(attempt.channelOrderNo, 'alipay')).toBe(200);
    await eventually('paid', async () => (await payment(no)).status === 'PAID');
    await eventually('shop told', async () => (await stack.merchantOrder(no))?.status === 'PAID');
    const view = await payment(no);
    expect(view.attempts[0].providerTradeNo).toMatch(/^\d{28}$/);
    expect(await checkOrder(endpoints, no)).toEqual([]);
  });

  it('refuses forged, foreign, wrong-amount notifications with "fail"; a replay is "success" and changes nothing', async () => {
    const no = orderNo('ali-forge');
    const applied = await api(url, 'POST', '/v1/payments', alipayOrder(no));
    const channelOrderNo = applied.body.attempt.channelOrderNo;
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();

    expect(await notify(paidFields(channelOrderNo), stranger)).toEqual({ status: 401, body: 'fail' });
    expect(await notify(paidFields(channelOrderNo, { app_id: '2021999999999999' }))).toEqual({
      status: 401,
      body: 'fail',
    });
    expect(await notify(paidFields(channelOrderNo, { total_amount: '0.01' }))).toEqual({
      status: 400,
      body: 'fail',
    });
    expect((await payment(no)).status).toBe('PAYING');

    const genuine = paidFields(channelOrderNo);
    expect(await notify(genuine)).toEqual({ status: 200, body: 'success' });
    expect(await notify(genuine)).toEqual({ status: 200, body: 'success' });
    expect((await payment(no)).status).toBe('PAID');
    await sleep(300);
    expect(stack.eventsOf('payment.succeeded', no)).toHaveLength(1);

    // A full refund made elsewhere is notified as TRADE_CLOSED with refund fields: the order stays paid.
    const refunded = paidFields(channelOrderNo, {
      trade_status: 'TRADE_CLOSED',
      refund_fee: '19.99',
      gmt_refund: '2026-12-01 11:00:00',
      out_biz_no: 'rf_elsewhere',
    });
    expect(await notify(refunded)).toEqual({ status: 200, body: 'success' });
    // And a TRADE_CLOSED without refund fields never un-pays a paid attempt either.
    expect(await notify(paidFields(channelOrderNo, { trade_status: 'TRADE_CLOSED' }))).toEqual({
      status: 200,
      body: 'success',
    });
    const after = await payment(no);
    expect([after.status, after.attempts[0].status]).toEqual(['PAID', 'SUCCESS']);
  });

  it('all notifications dropped: paid by polling', async () => {
    await stack.setFaults('alipay', { dropNotifyRate: 1 });
    const no = orderNo('ali-poll');
    const applied = await api(url, 'POST', '/v1/payments', alipayOrder(no));
    expect(await stack.pay(applied.body.attempt.channelOrderNo, 'alipay')).toBe(200);
    await eventually('paid by polling', async () => (await payment(no)).status === 'PAID', 15_000);
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it('bad answer signatures: nothing believed while they last, paid once they are fixed', async () => {
    await stack.setFaults('alipay', { dropNotifyRate: 1 });
    const no = orderNo('ali-badsig');
    const applied = await api(url, 'POST', '/v1/payments', alipayOrder(no));
    expect(await stack.pay(applied.body.attempt.channelOrderNo, 'alipay')).toBe(200);
    await stack.setFaults('alipay', { dropNotifyRate: 1, badResponseSignature: true });
    await sleep(2500); // several polls, each answered with a signature that does not verify
    expect((await payment(no)).status).toBe('PAYING');
    await stack.setFaults('alipay', { dropNotifyRate: 1 });
    await eventually('paid once answers verify', async () => (await payment(no)).status === 'PAID', 40_000);
  });

  it('a page opened late after a switch: one payment kept, the other refunded through Alipay', async () => {
    const no = orderNo('ali-late');
    const page = await api(
      url,
      'POST',
      '/v1/payments',
      alipayOrder(no, { channel: 'alipay-page', amount: 1250, returnUrl: 'https://shop.example/back' }),
    );
    expect(page.body.attempt.payAction.type).toBe('redirect');
    const pageUrl: string = page.body.attempt.payAction.url;
    // The shopper switches to the sandbox wallet before opening the page: Alipay has no trade to close.
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(wallet.status).toBe(201);
    expect(await stack.pay(wallet.body.attempt.channelOrderNo)).toBe(200);
    await eventually('paid by the wallet', async () => (await payment(no)).status === 'PAID');
    // Then opens the old page after all and pays it.
    expect((await fetch(pageUrl)).status).toBe(200);
    const paid = await fetch(`${stack.alipayUrl}/pay/${page.body.attempt.channelOrderNo}`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect([paid.status, paid.headers.get('location')?.split('?')[0]]).toEqual([
      303,
      'https://shop.example/back',
    ]);
    await eventually(
      'refunded at Alipay',
      async () => (await stack.ledger(no, 'alipay')).refunds.some((refund) => refund.status === 'SUCCESS'),
      20_000,
    );
    const view = await payment(no);
    expect(view.paidChannelOrderNo).toBe(wallet.body.attempt.channelOrderNo);
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it('a refund Alipay never confirms is sent again with the same out_request_no, then held for a person, never taken as done', async () => {
    const no = orderNo('ali-rffail');
    const page = await api(
      url,
      'POST',
      '/v1/payments',
      alipayOrder(no, { channel: 'alipay-page', amount: 1250 }),
    );
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(await stack.pay(wallet.body.attempt.channelOrderNo)).toBe(200);
    await eventually('paid by the wallet', async () => (await payment(no)).status === 'PAID');
    // Every refund Alipay receives fails: 10000 with fund_change N, and no refund_status when asked.
    await stack.setFaults('alipay', { refundFailRate: 1 });
    expect((await fetch(page.body.attempt.payAction.url)).status).toBe(200);
    await fetch(`${stack.alipayUrl}/pay/${page.body.attempt.channelOrderNo}`, {
      method: 'POST',
      redirect: 'manual',
    });
    const owed = await eventually(
      'held for a person',
      async () =>
        (await payment(no)).refunds.find((refund: { status: string }) => refund.status === 'MANUAL_REQUIRED'),
      20_000,
    );
    expect(owed.channelOrderNo).toBe(page.body.attempt.channelOrderNo);
    // One refund at Alipay, under our one refund number, never made; the order is owing, not clean.
    expect((await stack.ledger(no, 'alipay')).refunds).toEqual([
      expect.objectContaining({ refundNo: owed.refundNo, status: 'FAILED' }),
    ]);
    expect((await checkOrder(endpoints, no)).map((violation) => violation.problem)).toEqual(
      expect.arrayContaining([expect.stringMatching(/owes 1250 by hand/)]),
    );
    await eventually(
      'refund.manual_required',
      async () => stack.eventsOf('refund.manual_required', no).length === 1,
    );
    const env = stack.serviceEnv();
    const listed = await payctl(env, 'refund', 'list', '--manual');
    expect(listed.stdout).toContain(owed.refundNo);
    expect(listed.stdout).toMatch(/never confirmed the refund.*payctl refund retry/);
    // Alipay is fixed; an operator sends it again: the same out_request_no, now made, once.
    await stack.setFaults('alipay', undefined);
    expect((await payctl(env, 'refund', 'retry', owed.refundNo)).code).not.toBe(0); // who asks is required
    expect((await payctl(env, 'refund', 'retry', owed.refundNo, '--by', 'ops-li')).code).toBe(0);
    await eventually('refunded', async () => (await payment(no)).refunds[0]?.status === 'SUCCESS', 15_000);
    expect((await stack.ledger(no, 'alipay')).refunds).toEqual([
      expect.objectContaining({ refundNo: owed.refundNo, amount: 1250, status: 'SUCCESS' }),
    ]);
    expect((await payctl(env, 'refund', 'retry', owed.refundNo, '--by', 'ops-li')).code).not.toBe(0);
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it('a currency Alipay cannot take is refused before any provider call', async () => {
    const no = orderNo('ali-usd');
    const answer = await api(url, 'POST', '/v1/payments', alipayOrder(no, { currency: 'USD' }));
    expect([answer.status, answer.body.error.code]).toEqual([400, 'UNSUPPORTED_CURRENCY']);
    expect((await stack.ledger(no, 'alipay')).trades).toEqual([]);
  });

  it("Alipay down opens Alipay's breaker only; the PSP down opens only the sandbox's", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const options = { BREAKER_VOLUME: '2', BREAKER_RESET: '60s' };
    const noAlipay = (await stack.startGateway({ ...options, ALIPAY_ENDPOINT: dead })).url;
    for (let i = 0; i < 4; i += 1)
      await api(noAlipay, 'POST', '/v1/payments', alipayOrder(orderNo('ali-down')));
    const open = await api(noAlipay, 'POST', '/v1/payments', alipayOrder(orderNo('ali-down')));
    expect([open.status, open.body.error.code]).toEqual([502, 'CHANNEL_ERROR']);
    expect(open.body.error.message).toMatch(/open/i);
    expect((await api(noAlipay, 'POST', '/v1/payments', applyBody(orderNo('psp-up')))).status).toBe(201);

    const noPsp = (await stack.startGateway({ ...options, PSP_BASE_URL: dead })).url;
    for (let i = 0; i < 4; i += 1) await api(noPsp, 'POST', '/v1/payments', applyBody(orderNo('psp-down')));
    const pspOpen = await api(noPsp, 'POST', '/v1/payments', applyBody(orderNo('psp-down')));
    expect(pspOpen.body.error.message).toMatch(/open/i);
    expect((await api(noPsp, 'POST', '/v1/payments', alipayOrder(orderNo('ali-up')))).status).toBe(201);
  });
});
