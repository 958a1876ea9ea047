/**
 * WeChat Pay through the whole pipeline (gateway, poller, notifier, refunder in-process; the
 * WeChat Pay, Alipay and PSP sandboxes over real HTTP; the official wechatpay-axios-plugin
 * unchanged in between).
 */
import { generateKeyPairSync } from 'node:crypto';
import { chinaRfc3339 } from '@payments/providers';
import {
  SANDBOX_WECHATPAY_APIV3_KEY,
  SANDBOX_WECHATPAY_APPID,
  SANDBOX_WECHATPAY_MCHID,
  SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
} from '../../sandbox/wechatpay/src/keys';
import { eventually, sleep } from '@payments/testkit';
import { encryptResource, signedHeaders } from '../../sandbox/wechatpay/src/signing';
import { checkOrder, type Endpoints } from '../../scripts/lib/invariants';
import { api, API_KEY, applyBody, freePort, GatewayStack, orderNo } from '../support/stack';

/** The refunder's first poll of a refund comes this long after it was sent: sooner is the notification's doing. */
const REFUND_POLL_MS = 4000;

describe('WeChat Pay through the pipeline (real servers, wechatpay-axios-plugin against the sandbox)', () => {
  const stack = new GatewayStack();
  let url: string;
  let endpoints: Endpoints;

  beforeAll(async () => {
    await stack.start({ REFUND_POLL_SCHEDULE: `${REFUND_POLL_MS}ms` });
    url = (await stack.startGateway()).url;
    await stack.startPoller();
    await stack.startRefunder();
    await stack.startNotifier();
    await stack.listenToEvents();
    endpoints = {
      gatewayUrl: url,
      apiKey: API_KEY,
      pspUrl: stack.pspUrl,
      otherSandboxUrls: [stack.alipayUrl, stack.wechatpayUrl],
      orderServiceUrl: stack.orderServiceUrl,
    };
  });
  afterEach(async () => {
    await stack.setFaults('wechatpay', undefined);
    await stack.setFaults('alipay', undefined);
  });
  afterAll(() => stack.stop());

  const wechatOrder = (no: string, overrides: Record<string, unknown> = {}) =>
    applyBody(no, { channel: 'wechat-native', amount: 1999, ...overrides });
  const payment = async (no: string) => (await api(url, 'GET', `/v1/payments/${no}`)).body;
  /** POSTs a notification as WeChat Pay would: signed (by `key`, at `atMs`), its resource encrypted. */
  const notify = async (
    resource: object,
    options: { key?: string; atMs?: number; apiV3Key?: string; eventType?: string } = {},
  ) => {
    const body = JSON.stringify({
      id: `EV-${Math.random().toString(36).slice(2)}`,
      create_time: chinaRfc3339(new Date()),
      resource_type: 'encrypt-resource',
      event_type: options.eventType ?? 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      resource: encryptResource(
        JSON.stringify(resource),
        options.apiV3Key ?? SANDBOX_WECHATPAY_APIV3_KEY,
        'transaction',
        'transaction',
      ),
    });
    const headers = signedHeaders(
      body,
      options.key ?? SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
      SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
      options.atMs ?? Date.now(),
    );
    const response = await fetch(`${url}/v1/notify/wechatpay`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, body: await response.text() };
  };
  const paidTransaction = (channelOrderNo: string, overrides: Record<string, unknown> = {}) => ({
    appid: SANDBOX_WECHATPAY_APPID,
    mchid: SANDBOX_WECHATPAY_MCHID,
    out_trade_no: channelOrderNo,
    transaction_id: '4200000000000000000000000001',
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    success_time: chinaRfc3339(new Date()),
    amount: { total: 1999, payer_total: 1999, currency: 'CNY', payer_currency: 'CNY' },
    ...overrides,
  });
  /** The gateway's `refunds_total{status="SUCCESS"}`: refunds it finished from notifications. */
  const refundsSettledByGateway = async () =>
    (await (await fetch(`${url}/metrics`)).text())
      .split('\n')
      .filter((line) => line.startsWith('refunds_total{') && line.includes('status="SUCCESS"'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  const FAIL = (status: number) => ({ status, body: expect.stringMatching(/^\{"code":"FAIL","message":/) });

  it('native: a qr pay action, paid in WeChat, settled by its notification, the shop told once', async () => {
    const no = orderNo('wx-native');
    const applied = await api(url, 'POST', '/v1/payments', wechatOrder(no));
    expect(applied.status).toBe(201);
    const attempt = applied.body.attempt;
    expect(attempt.payAction).toEqual({ type: 'qr', content: attempt.payUrl });
    expect(attempt.payUrl).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect(await stack.pay(attempt.channelOrderNo, 'wechatpay')).toBe(200);
    await eventually('paid', async () => (await payment(no)).status === 'PAID');
    await eventually('shop told', async () => (await stack.merchantOrder(no))?.status === 'PAID');
    expect((await payment(no)).attempts[0].providerTradeNo).toMatch(/^4200\d{24}$/);
    expect(await checkOrder(endpoints, no)).toEqual([]);
  });

  it('refuses forged, stale, undecryptable, foreign and wrong-amount notifications; a replay changes nothing', async () => {
    const no = orderNo('wx-forge');
    const applied = await api(url, 'POST', '/v1/payments', wechatOrder(no));
    const channelOrderNo = applied.body.attempt.channelOrderNo;
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();

    expect(await notify(paidTransaction(channelOrderNo), { key: stranger })).toEqual(FAIL(401));
    expect(await notify(paidTransaction(channelOrderNo), { atMs: Date.now() - 400_000 })).toEqual(FAIL(401));
    expect(await notify(paidTransaction(channelOrderNo), { apiV3Key: 'k'.repeat(32) })).toEqual(FAIL(401));
    expect(await notify(paidTransaction(channelOrderNo, { mchid: '1900000999' }))).toEqual(FAIL(401));
    expect(await notify(paidTransaction(channelOrderNo, { amount: { total: 1, currency: 'CNY' } }))).toEqual(
      FAIL(400),
    );
    expect((await payment(no)).status).toBe('PAYING');

    const genuine = paidTransaction(channelOrderNo);
    expect(await notify(genuine)).toEqual({ status: 204, body: '' });
    expect(await notify(genuine)).toEqual({ status: 204, body: '' });
    expect((await payment(no)).status).toBe('PAID');
    // A refund WeChat Pay reports that we never made is taken (answered 204) and changes nothing.
    expect(
      await notify(
        {
          mchid: SANDBOX_WECHATPAY_MCHID,
          out_trade_no: channelOrderNo,
          out_refund_no: 'rf_elsewhere',
          refund_status: 'SUCCESS',
        },
        { eventType: 'REFUND.SUCCESS' },
      ),
    ).toEqual({ status: 204, body: '' });
    await sleep(300);
    expect(stack.eventsOf('payment.succeeded', no)).toHaveLength(1);
    const after = await payment(no);
    expect([after.status, after.attempts[0].status, after.refunds]).toEqual(['PAID', 'SUCCESS', []]);
  });

  it('all notifications dropped: paid by polling', async () => {
    await stack.setFaults('wechatpay', { dropNotifyRate: 1 });
    const no = orderNo('wx-poll');
    const applied = await api(url, 'POST', '/v1/payments', wechatOrder(no));
    expect(await stack.pay(applied.body.attempt.channelOrderNo, 'wechatpay')).toBe(200);
    await eventually('paid by polling', async () => (await payment(no)).status === 'PAID', 15_000);
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it('bad answer signatures: nothing believed while they last, paid once they are fixed', async () => {
    await stack.setFaults('wechatpay', { dropNotifyRate: 1 });
    const no = orderNo('wx-badsig');
    const applied = await api(url, 'POST', '/v1/payments', wechatOrder(no));
    expect(await stack.pay(applied.body.attempt.channelOrderNo, 'wechatpay')).toBe(200);
    await stack.setFaults('wechatpay', { dropNotifyRate: 1, badResponseSignature: true });
    await sleep(2500); // several polls, each answered with a signature that does not verify
    expect((await payment(no)).status).toBe('PAYING');
    await stack.setFaults('wechatpay', { dropNotifyRate: 1 });
    await eventually('paid once answers verify', async () => (await payment(no)).status === 'PAID', 40_000);
  });

  /**
   * The seeds' two-wallet case: WeChat opened, the shopper goes back and pays with Alipay (WeChat's
   * close fails), then pays in WeChat as well. One payment is kept, the other refunded through
   * WeChat Pay, the refund settled by its REFUND.SUCCESS notification (`notifyFirst`) or by the
   * refunder's poll with the notification arriving later: whichever comes second changes nothing.
   */
  it.each([
    ['the notification', { notifyFirst: true }],
    ['the poll, the notification later', { notifyFirst: false }],
  ])(
    'two wallets, the close failing: one kept, one refunded, settled by %s',
    async (_label, { notifyFirst }) => {
      const no = orderNo('wx-two');
      const wechat = await api(url, 'POST', '/v1/payments', wechatOrder(no));
      expect(wechat.status).toBe(201);
      await stack.setFaults('wechatpay', { closeErrorRate: 1 });
      const alipay = await api(url, 'POST', '/v1/payments', wechatOrder(no, { channel: 'alipay-qr' }));
      expect(alipay.status).toBe(201);
      expect(await stack.pay(alipay.body.attempt.channelOrderNo, 'alipay')).toBe(200);
      await eventually('paid by Alipay', async () => (await payment(no)).status === 'PAID');
      // The WeChat order could not be closed: the shopper pays it too.
      await stack.setFaults('wechatpay', notifyFirst ? undefined : { notifyDelayMs: REFUND_POLL_MS + 2000 });
      const countedBefore = await refundsSettledByGateway();
      const sentAt = Date.now();
      expect(await stack.pay(wechat.body.attempt.channelOrderNo, 'wechatpay')).toBe(200);
      const refunded = await eventually(
        'extra payment refunded',
        async () => {
          const view = await payment(no);
          return view.refunds.length === 1 && view.refunds[0].status === 'SUCCESS' && view.refunds[0];
        },
        20_000,
      );
      if (notifyFirst) expect(Date.now() - sentAt).toBeLessThan(REFUND_POLL_MS);
      expect(refunded).toMatchObject({ channelOrderNo: wechat.body.attempt.channelOrderNo, amount: 1999 });
      const view = await payment(no);
      expect(view.paidChannelOrderNo).toBe(alipay.body.attempt.channelOrderNo);
      // Past both the poll and the notification: the second of them changed nothing.
      await sleep(REFUND_POLL_MS + 2500 - (Date.now() - sentAt));
      expect(stack.eventsOf('refund.succeeded', no)).toHaveLength(1);
      expect((await refundsSettledByGateway()) - countedBefore).toBe(notifyFirst ? 1 : 0);
      expect((await stack.ledger(no, 'wechatpay')).refunds).toEqual([
        expect.objectContaining({ refundNo: refunded.refundNo, amount: 1999, status: 'SUCCESS' }),
      ]);
      await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
    },
  );

  /**
   * The close that finds the shopper entering the password (202 USER_PAYING) did not close the
   * order: the attempt stays in flight and polled, so a payment completing after it is found even
   * with every notification lost, and refunded as the extra payment it is.
   */
  it('a close during a password entry (202 USER_PAYING) leaves the attempt polled: its late payment is found and refunded', async () => {
    await stack.setFaults('wechatpay', { dropNotifyRate: 1 });
    const no = orderNo('wx-userpaying');
    const wechat = await api(url, 'POST', '/v1/payments', wechatOrder(no));
    expect(wechat.status).toBe(201);
    const wechatNo = wechat.body.attempt.channelOrderNo;
    const started = await fetch(`${stack.wechatpayUrl}/sandbox/trades/${wechatNo}/start-paying`, {
      method: 'POST',
    });
    expect(started.status).toBe(200);
    // The shopper goes back and picks Alipay: the WeChat close is answered 202, nothing closed.
    const alipay = await api(url, 'POST', '/v1/payments', wechatOrder(no, { channel: 'alipay-qr' }));
    expect(alipay.status).toBe(201);
    const wechatAttempt = async () =>
      (await payment(no)).attempts.find((one: { channelOrderNo: string }) => one.channelOrderNo === wechatNo);
    expect((await wechatAttempt()).status).toBe('PAYING');
    expect((await stack.ledger(no, 'wechatpay')).trades[0].status).toBe('WAITING');
    expect(await stack.pay(alipay.body.attempt.channelOrderNo, 'alipay')).toBe(200);
    await eventually('paid by Alipay', async () => (await payment(no)).status === 'PAID');
    // The password entry completes: WeChat Pay took the money too, and tells nobody.
    expect(await stack.pay(wechatNo, 'wechatpay')).toBe(200);
    const refunded = await eventually(
      'the late payment found by polling and refunded',
      async () => {
        const view = await payment(no);
        return view.refunds.length === 1 && view.refunds[0].status === 'SUCCESS' && view.refunds[0];
      },
      30_000,
    );
    expect(refunded).toMatchObject({ channelOrderNo: wechatNo, amount: 1999 });
    expect((await payment(no)).paidChannelOrderNo).toBe(alipay.body.attempt.channelOrderNo);
    expect((await wechatAttempt()).status).toBe('SUCCESS');
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it('"apply again" after an unknown create sends the create as first asked: the same order, never OUT_TRADE_NO_USED (issue 26.5)', async () => {
    const no = orderNo('wx-again');
    // Slower than the gateway waits: WeChat Pay makes the order, our apply answers 502.
    await stack.setFaults('wechatpay', { createLatencyMs: 2500 });
    const first = await api(url, 'POST', '/v1/payments', wechatOrder(no, { subject: 'Blue teapot' }));
    expect([first.status, first.body.error?.code]).toEqual([502, 'CHANNEL_ERROR']);
    await eventually(
      'the order made at WeChat Pay',
      async () => (await stack.ledger(no, 'wechatpay')).trades.length === 1,
    );
    await stack.setFaults('wechatpay', undefined);
    // The shop's retry describes the order differently; what WeChat Pay is sent is what it was sent first.
    const again = await api(url, 'POST', '/v1/payments', wechatOrder(no, { subject: 'Blue teapot (gift)' }));
    expect(again.status).toBe(201);
    expect(again.body.attempt.payAction.type).toBe('qr');
    const { trades } = await stack.ledger(no, 'wechatpay');
    expect(trades).toHaveLength(1);
    expect(trades[0]!.channelOrderNo).toBe(again.body.attempt.channelOrderNo);
    expect(await stack.pay(again.body.attempt.channelOrderNo, 'wechatpay')).toBe(200);
    await eventually('paid', async () => (await payment(no)).status === 'PAID');
    await eventually('quiet and clean', async () => (await checkOrder(endpoints, no)).length === 0, 15_000);
  });

  it('a currency WeChat Pay cannot take is refused before any provider call', async () => {
    const no = orderNo('wx-usd');
    const answer = await api(url, 'POST', '/v1/payments', wechatOrder(no, { currency: 'USD' }));
    expect([answer.status, answer.body.error.code]).toEqual([400, 'UNSUPPORTED_CURRENCY']);
    expect((await stack.ledger(no, 'wechatpay')).trades).toEqual([]);
  });

  it("WeChat Pay down opens WeChat Pay's breaker only: Alipay and the sandbox wallet keep working", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/`;
    const noWechat = (
      await stack.startGateway({ BREAKER_VOLUME: '2', BREAKER_RESET: '60s', WECHATPAY_BASE_URL: dead })
    ).url;
    for (let i = 0; i < 4; i += 1)
      await api(noWechat, 'POST', '/v1/payments', wechatOrder(orderNo('wx-down')));
    const open = await api(noWechat, 'POST', '/v1/payments', wechatOrder(orderNo('wx-down')));
    expect([open.status, open.body.error.code]).toEqual([502, 'CHANNEL_ERROR']);
    expect(open.body.error.message).toMatch(/open/i);
    expect((await api(noWechat, 'POST', '/v1/payments', applyBody(orderNo('psp-up')))).status).toBe(201);
    expect(
      (await api(noWechat, 'POST', '/v1/payments', wechatOrder(orderNo('ali-up'), { channel: 'alipay-qr' })))
        .status,
    ).toBe(201);
  });
});
