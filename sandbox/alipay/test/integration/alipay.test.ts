/**
 * The official alipay-sdk, through our Alipay provider, against the Alipay sandbox over real HTTP:
 * signatures both ways, error codes, yuan amounts, the page a shopper pays on, notifications.
 */
import {
  ChannelRejectedError,
  ChannelUnavailableError,
  NotifyRejectedError,
  payActionTarget,
} from '@payments/core';
import { AlipayProvider } from '@payments/providers';
import { SANDBOX_ALIPAY_PRIVATE_KEY } from '../../src/keys';
import {
  eventually,
  sleep,
  NotificationReceiver,
  providerHarness,
  type ReceiverAnswer,
} from '@payments/testkit';
import { alipaySandbox } from '../../src/entry';
import { signV2 } from '../../src/signing';

/** A merchant endpoint for Alipay's form notifications: records them raw, answers as told. */
class FormReceiver extends NotificationReceiver<{ form: Record<string, string> }> {
  /** Bodies to answer, in order; once empty every request gets `success`. */
  answers: string[] = [];

  constructor() {
    super({ path: '/notify', contentType: 'application/x-www-form-urlencoded' });
  }

  protected read(rawBody: string) {
    return { form: Object.fromEntries(new URLSearchParams(rawBody)) };
  }

  protected answer(): ReceiverAnswer {
    return { status: 200, contentType: 'text/plain', body: this.answers.shift() ?? 'success' };
  }

  for(outTradeNo: string) {
    return this.received.filter((entry) => entry.form.out_trade_no === outTradeNo);
  }
}

describe('Alipay: alipay-sdk against the sandbox', () => {
  const alipay = providerHarness({
    entry: alipaySandbox,
    name: 'alipay',
    receiver: new FormReceiver(),
    makeProvider: (config, kit) => new AlipayProvider(config, kit, ['alipay-qr', 'alipay-page']),
    contentType: 'application/x-www-form-urlencoded',
    trade: {
      tag: 'ali',
      money: { amount: 1999, currency: 'CNY' },
      expiresInMs: 15 * 60_000,
      returnUrl: 'https://shop.example/return',
    },
  });
  const { receiver, makeProvider, trade, ref, control, faults, ledger, notification } = alipay;
  const qr = () => alipay.channel('alipay-qr');
  const page = () => alipay.channel('alipay-page');

  beforeAll(() => alipay.start());
  afterEach(async () => {
    await faults(undefined);
    receiver.answers = [];
  });
  afterAll(() => alipay.stop());

  it('QR: precreate, not found until scanned, paid, closed-when-paid, refunded once by out_request_no', async () => {
    const request = trade();
    const created = await qr().createTrade(request);
    expect(created.payAction.type).toBe('qr');
    // Precreate is idempotent by out_trade_no: the same code again.
    expect(await qr().createTrade(request)).toEqual(created);
    // Not scanned yet: Alipay knows no such trade, and a close finds none.
    expect(await qr().queryTrade(ref(request.channelOrderNo))).toBe('NOT_FOUND');
    expect(await qr().closeTrade(ref(request.channelOrderNo))).toEqual({ result: 'NOT_FOUND' });

    const scanned = await fetch(payActionTarget(created.payAction));
    expect(scanned.status).toBe(200);
    expect(await scanned.text()).toContain('¥19.99');
    expect(await qr().queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'PAYING' });

    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(200);
    const paid = await qr().queryTrade(ref(request.channelOrderNo));
    expect(paid).toMatchObject({ status: 'SUCCESS', amount: 1999, currency: 'CNY' });
    expect((paid as { providerTradeNo: string }).providerTradeNo).toMatch(/^\d{28}$/);
    const closing = await qr().closeTrade(ref(request.channelOrderNo));
    expect(closing).toMatchObject({ result: 'ALREADY_PAID', outcome: { status: 'SUCCESS', amount: 1999 } });

    const refund = {
      refundNo: `rf_${request.channelOrderNo}`,
      attempt: ref(request.channelOrderNo),
      money: request.money,
      paid: request.money,
      notifyUrl: request.notifyUrl,
    };
    expect(await qr().queryRefund(refund.refundNo, refund.attempt)).toBe('NOT_FOUND');
    expect(await qr().refund(refund)).toBe('SUCCESS');
    // The same refundNo again moves no money (fund_change N) and still reads as done.
    expect(await qr().refund(refund)).toBe('SUCCESS');
    expect(await qr().queryRefund(refund.refundNo, refund.attempt)).toBe('SUCCESS');
    const book = await ledger(request.merchantOrderNo);
    expect(book.trades).toEqual([
      expect.objectContaining({ channelOrderNo: request.channelOrderNo, amount: 1999, status: 'PAID' }),
    ]);
    expect(book.refunds).toEqual([
      { refundNo: refund.refundNo, channelOrderNo: request.channelOrderNo, amount: 1999, status: 'SUCCESS' },
    ]);
    // More than the trade is refused by Alipay: a refusal, not a retry.
    await expect(
      qr().refund({ ...refund, refundNo: `${refund.refundNo}_2`, money: { amount: 1, currency: 'CNY' } }),
    ).rejects.toBeInstanceOf(ChannelRejectedError);
  });

  it('a failed refund is never money returned: no refund_status is "not received, or failed"; the same out_request_no again refunds it', async () => {
    const request = trade();
    const created = await qr().createTrade(request);
    await fetch(payActionTarget(created.payAction));
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    const refund = {
      refundNo: `rf_fail_${request.channelOrderNo}`,
      attempt: ref(request.channelOrderNo),
      money: request.money,
      paid: request.money,
      notifyUrl: request.notifyUrl,
    };
    await faults({ refundFailRate: 1 });
    // Alipay answers 10000 with fund_change N: not a refusal, and not money moved.
    expect(await qr().refund(refund)).toBe('PROCESSING');
    // The query of a failed refund names its amount but no refund_status: not a success.
    const raw = await control('GET', `/sandbox/ledger?merchantOrderNo=${request.merchantOrderNo}`);
    expect(JSON.parse(raw.text).refunds).toEqual([expect.objectContaining({ status: 'FAILED' })]);
    expect(await qr().queryRefund(refund.refundNo, refund.attempt)).toBe('NOT_FOUND');
    await faults(undefined);
    // Retried with the same out_request_no, as Alipay advises: now made, once.
    expect(await qr().refund(refund)).toBe('SUCCESS');
    expect(await qr().queryRefund(refund.refundNo, refund.attempt)).toBe('SUCCESS');
    expect((await ledger(request.merchantOrderNo)).refunds).toEqual([
      { refundNo: refund.refundNo, channelOrderNo: request.channelOrderNo, amount: 1999, status: 'SUCCESS' },
    ]);
  });

  it.each([
    [1, '0.01'],
    [99, '0.99'],
    [100, '1.00'],
    [1_000_000, '10000.00'],
  ])('sends %i fen as "%s" yuan, and reads it back exactly', async (fen, yuan) => {
    const request = trade({ money: { amount: fen, currency: 'CNY' } });
    await qr().createTrade(request);
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    expect((await ledger(request.merchantOrderNo)).trades[0].amount).toBe(fen);
    const [sent] = await eventually(
      'notification',
      async () => receiver.for(request.channelOrderNo).length > 0 && receiver.for(request.channelOrderNo),
    );
    expect(sent!.form.total_amount).toBe(yuan);
    expect(await qr().queryTrade(ref(request.channelOrderNo))).toMatchObject({
      status: 'SUCCESS',
      amount: fen,
    });
  });

  it('a create that meets a trade already paid or closed is an unknown outcome, never a failed one', async () => {
    const paid = trade();
    await qr().createTrade(paid);
    await control('POST', `/sandbox/trades/${paid.channelOrderNo}/pay`);
    // ACQ.TRADE_HAS_SUCCESS: the first create's answer was lost and the shopper paid meanwhile.
    await expect(qr().createTrade(paid)).rejects.toBeInstanceOf(ChannelUnavailableError);
    const closed = trade();
    await fetch(payActionTarget((await qr().createTrade(closed)).payAction));
    expect(await qr().closeTrade(ref(closed.channelOrderNo))).toEqual({ result: 'CLOSED' });
    await expect(qr().createTrade(closed)).rejects.toBeInstanceOf(ChannelUnavailableError);
    // The same out_trade_no for another amount is refused outright.
    await expect(
      qr().createTrade({ ...closed, money: { amount: 1, currency: 'CNY' } }),
    ).rejects.toBeInstanceOf(ChannelRejectedError);
  });

  it('10^12 fen (10^10 yuan) is beyond what Alipay takes: refused, not retried', async () => {
    await expect(
      qr().createTrade(trade({ money: { amount: 1e12, currency: 'CNY' } })),
    ).rejects.toBeInstanceOf(ChannelRejectedError);
  });

  it('passes the expiry as time_expire: unpaid past it the trade is closed and cannot be paid', async () => {
    const request = trade({ expireAt: new Date(Date.now() + 1500) });
    const created = await qr().createTrade(request);
    await fetch(payActionTarget(created.payAction));
    await sleep(1700);
    expect(await qr().queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'CLOSED' });
    expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(409);
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('EXPIRED');
  });

  it('page pay: a signed URL, the trade exists once opened, paid on the page, back to return_url signed', async () => {
    const request = trade();
    const created = await page().createTrade(request);
    expect(created.payAction.type).toBe('redirect');
    const url = payActionTarget(created.payAction);
    expect(url.startsWith(`${alipay.base}/gateway.do?`)).toBe(true);
    expect(await page().queryTrade(ref(request.channelOrderNo))).toBe('NOT_FOUND');

    const opened = await fetch(url);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('<form method="post"');
    expect(await page().queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'PAYING' });

    const paid = await fetch(`${alipay.base}/pay/${request.channelOrderNo}`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect(paid.status).toBe(303);
    const back = new URL(paid.headers.get('location')!);
    expect(back.origin + back.pathname).toBe('https://shop.example/return');
    expect(back.searchParams.get('out_trade_no')).toBe(request.channelOrderNo);
    expect(await page().queryTrade(ref(request.channelOrderNo))).toMatchObject({
      status: 'SUCCESS',
      amount: 1999,
    });

    // A tampered page URL is refused by the sandbox as Alipay would.
    const tampered = url.replace(encodeURIComponent('"19.99"'), encodeURIComponent('"0.01"'));
    expect(tampered).not.toBe(url);
    expect((await fetch(tampered)).status).toBe(400);
  });

  it('verifies notifications: a real one, and forged sign, foreign app_id, replaced amount', async () => {
    const request = trade();
    await qr().createTrade(request);
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    const [sent] = await eventually(
      'notification',
      async () => receiver.for(request.channelOrderNo).length > 0 && receiver.for(request.channelOrderNo),
    );
    expect(await alipay.provider.verifyNotification(notification(sent!.rawBody))).toMatchObject({
      kind: 'payment',
      channelOrderNo: request.channelOrderNo,
      outcome: { status: 'SUCCESS', amount: 1999, currency: 'CNY' },
    });

    const form = new URLSearchParams(sent!.rawBody);
    form.set('total_amount', '0.01');
    await expect(alipay.provider.verifyNotification(notification(form.toString()))).rejects.toMatchObject({
      status: 401,
    });
    // Signed by the right key, but for another app.
    const { sign: _sign, ...fields } = sent!.form;
    const foreign = new URLSearchParams(
      signV2({ ...fields, app_id: '2021999999999999' }, SANDBOX_ALIPAY_PRIVATE_KEY),
    );
    await expect(alipay.provider.verifyNotification(notification(foreign.toString()))).rejects.toBeInstanceOf(
      NotifyRejectedError,
    );
    // A genuine signature over another amount reads as that amount (settling refuses it: gateway tests).
    const other = new URLSearchParams(
      signV2({ ...fields, total_amount: '0.01' }, SANDBOX_ALIPAY_PRIVATE_KEY),
    );
    expect(await alipay.provider.verifyNotification(notification(other.toString()))).toMatchObject({
      outcome: { amount: 1 },
    });
    // The answers Alipay reads.
    expect(alipay.provider.acknowledge({ accepted: true })).toEqual({
      status: 200,
      contentType: 'text/plain',
      body: 'success',
    });
    expect(
      alipay.provider.acknowledge({ accepted: false, status: 401, code: 'BAD_SIGNATURE', message: 'x' }).body,
    ).toBe('fail');
  });

  it('a refund notification is a refund, never a payment outcome', async () => {
    const request = trade();
    await qr().createTrade(request);
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    await qr().refund({
      refundNo: `rf_n_${alipay.sequence}`,
      attempt: ref(request.channelOrderNo),
      money: request.money,
      paid: request.money,
      notifyUrl: request.notifyUrl,
    });
    const refunded = await eventually('refund notification', async () =>
      receiver.for(request.channelOrderNo).find((entry) => entry.form.refund_fee),
    );
    expect(refunded.form.trade_status).toBe('TRADE_CLOSED');
    expect(await alipay.provider.verifyNotification(notification(refunded.rawBody))).toEqual({
      kind: 'refund',
      refunds: [{ refundNo: `rf_n_${alipay.sequence}`, status: 'SUCCESS' }],
    });
  });

  it('retries a notification on Alipay schedule until the answer is exactly "success"', async () => {
    receiver.answers = ['fail', 'SUCCESS', 'success '];
    const request = trade();
    await qr().createTrade(request);
    await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`);
    await eventually('four sends', async () => receiver.for(request.channelOrderNo).length >= 4, 5000);
    await sleep(4000); // the next retry would be 3.6 s after the fourth (1 h scaled)
    const sends = receiver.for(request.channelOrderNo);
    expect(sends).toHaveLength(4);
    expect(new Set(sends.map((entry) => entry.form.notify_id)).size).toBe(1);
  });

  it('bad answer signatures are provider failures, never believed; recovered once fixed', async () => {
    const request = trade();
    await fetch(payActionTarget((await qr().createTrade(request)).payAction)); // scanned: answers are 200
    await faults({ badResponseSignature: true });
    await expect(qr().queryTrade(ref(request.channelOrderNo))).rejects.toBeInstanceOf(
      ChannelUnavailableError,
    );
    await expect(qr().closeTrade(ref(request.channelOrderNo))).rejects.toBeInstanceOf(
      ChannelUnavailableError,
    );
    await expect(qr().createTrade(trade())).rejects.toBeInstanceOf(ChannelUnavailableError);
    // Alipay did close it; we only did not believe the answer. Asked again with signed answers,
    // the close meets ACQ.TRADE_STATUS_ERROR and the (signed) query says closed.
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('CLOSED');
    await faults(undefined);
    expect(await qr().closeTrade(ref(request.channelOrderNo))).toEqual({ result: 'CLOSED' });
  });

  it('the sandbox refuses requests not signed by the app key, and a 5xx is a failure', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const impostor = makeProvider({ ALIPAY_PRIVATE_KEY: stranger });
    await expect(impostor.channels[0]!.createTrade(trade())).rejects.toThrow(/invalid-signature/);
    await faults({ queryErrorRate: 1 });
    await expect(qr().queryTrade(ref('co_any'))).rejects.toBeInstanceOf(ChannelUnavailableError);
  });

  it('bad key settings stop the start, naming the variable', () => {
    expect(() => makeProvider({ ALIPAY_PRIVATE_KEY: 'not a key' })).toThrow(/ALIPAY_PRIVATE_KEY/);
    expect(() => makeProvider({ ALIPAY_PUBLIC_KEY: SANDBOX_ALIPAY_PRIVATE_KEY })).toThrow(
      /ALIPAY_PUBLIC_KEY/,
    );
  });
});
