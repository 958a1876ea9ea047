/**
 * The official wechatpay-axios-plugin, through our WeChat Pay provider, against the WeChat Pay
 * sandbox over real HTTP: signatures both ways, error codes, fen, time_expire, the scanned page,
 * encrypted notifications and asynchronous refunds; closes during a password entry (202
 * USER_PAYING), ABNORMAL refunds and their abnormal-refund application, public-key mode and a
 * migration from platform certificates.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  ChannelRejectedError,
  ChannelUnavailableError,
  NotifyRejectedError,
  payActionTarget,
  type CreateTradeRequest,
} from '@payments/core';
import { chinaRfc3339, WechatpayProvider } from '@payments/providers';
import {
  SANDBOX_WECHATPAY_APIV3_KEY,
  SANDBOX_WECHATPAY_APPID,
  SANDBOX_WECHATPAY_MCHID,
  SANDBOX_WECHATPAY_MERCHANT_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
  SANDBOX_WECHATPAY_SERIAL,
  SANDBOX_WECHATPAY_SERVER_KEYS,
} from '../../src/keys';
import {
  eventually,
  sleep,
  NotificationReceiver,
  providerHarness,
  type ReceiverAnswer,
} from '@payments/testkit';
import { Wechatpay } from 'wechatpay-axios-plugin';
import {
  SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL,
  SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE,
} from '../../src/platform-certificate';
import { wechatpaySandbox } from '../../src/entry';
import { buildWechatpaySandbox } from '../../src/server';
import { encryptResource, signedHeaders } from '../../src/signing';

interface Received {
  headers: Record<string, string>;
  rawBody: string;
  event: { id: string; event_type: string; resource: { ciphertext: string } };
}

/** A merchant endpoint for WeChat Pay's notifications: records them raw, answers as told. */
class JsonReceiver extends NotificationReceiver<{ event: Received['event'] }> {
  /** Statuses to answer, in order; once empty every request gets 204. */
  answers: number[] = [];

  constructor() {
    super({ path: '/notify', contentType: 'application/json' });
  }

  protected read(rawBody: string) {
    return { event: JSON.parse(rawBody) as Received['event'] };
  }

  protected answer(): ReceiverAnswer {
    const status = this.answers.shift() ?? 204;
    return status === 204 ? { status } : { status, body: { code: 'FAIL', message: 'x' } };
  }
}

describe('WeChat Pay: wechatpay-axios-plugin against the sandbox', () => {
  /** What the sandbox received, as sent: the bodies the plugin signed, the key it asked to be answered by. */
  const requests: { method: string; url: string; body: string; serial: unknown }[] = [];
  const wechatpay = providerHarness({
    entry: wechatpaySandbox,
    name: 'wechat',
    receiver: new JsonReceiver(),
    makeProvider: (config, kit) => new WechatpayProvider(config, kit),
    onBuild: (sandbox) =>
      sandbox.addHook('preHandler', async (request) => {
        if (request.url.startsWith('/v3/'))
          requests.push({
            method: request.method,
            url: request.url,
            body: String(request.body ?? ''),
            serial: request.headers['wechatpay-serial'],
          });
      }),
    contentType: 'application/json',
    trade: { tag: 'wx', money: { amount: 1999, currency: 'CNY' }, expiresInMs: 15 * 60_000 },
  });
  const { receiver, trade, ref, control, faults, ledger, notification } = wechatpay;

  /** A provider of the configuration `env` gives (and `platformCerts`: a merchant migrating from certificates). */
  const makeProvider = (env: Record<string, string> = {}, platformCerts?: Record<string, string>) => {
    const config = {
      ...wechatpay.config(env),
      ...(platformCerts ? { WECHATPAY_PLATFORM_CERTS: platformCerts } : {}),
    };
    return new WechatpayProvider(config, wechatpay.kit(config));
  };
  const native = () => wechatpay.provider.channels[0]!;
  const refundOf = (request: CreateTradeRequest, refundNo: string, amount = request.money.amount) => ({
    refundNo,
    attempt: ref(request.channelOrderNo),
    money: { amount, currency: 'CNY' },
    paid: request.money,
    notifyUrl: receiver.url,
  });
  const pay = (channelOrderNo: string) => control('POST', `/sandbox/trades/${channelOrderNo}/pay`);
  /** WeChat Pay's own faults, merged (`DELETE /sandbox/faults` resets them too). */
  const wechatpayFaults = async (value: Record<string, unknown>) => {
    const answer = await control('PUT', '/sandbox/wechatpay-faults', value);
    expect(answer.status).toBe(200);
  };
  const stranger = () =>
    generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
  /** The notifications about one order, decrypted by the provider under test. */
  const notificationsOf = async (channelOrderNo: string) => {
    const mine = [];
    for (const entry of receiver.received) {
      const read = await wechatpay.provider
        .verifyNotification(notification(entry.rawBody, entry.headers))
        .catch(() => undefined);
      if (read?.kind === 'payment' && read.channelOrderNo === channelOrderNo) mine.push({ entry, read });
    }
    return mine;
  };
  /** A notification signed by the platform key (or another), at a time of our choosing. */
  const signed = (body: object, options: { key?: string; atMs?: number; serial?: string } = {}) => {
    const rawBody = JSON.stringify(body);
    return notification(rawBody, {
      ...signedHeaders(
        rawBody,
        options.key ?? SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
        options.serial ?? SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
        options.atMs ?? Date.now(),
      ),
    });
  };
  const transactionEvent = (resource: object, apiV3Key = SANDBOX_WECHATPAY_APIV3_KEY) => ({
    id: 'EV-2026',
    create_time: chinaRfc3339(new Date()),
    resource_type: 'encrypt-resource',
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: encryptResource(JSON.stringify(resource), apiV3Key, 'transaction', 'transaction'),
  });
  const paidTransaction = (channelOrderNo: string, overrides: Record<string, unknown> = {}) => ({
    appid: SANDBOX_WECHATPAY_APPID,
    mchid: SANDBOX_WECHATPAY_MCHID,
    out_trade_no: channelOrderNo,
    transaction_id: '4200000000000000000000000001',
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    success_time: '2026-12-01T10:00:00+08:00',
    amount: { total: 1999, payer_total: 1999, currency: 'CNY', payer_currency: 'CNY' },
    ...overrides,
  });

  beforeAll(() => wechatpay.start());
  afterEach(async () => {
    await faults(undefined);
    receiver.answers = [];
  });
  afterAll(() => wechatpay.stop());

  it('native: code_url, idempotent create, scanned page, paid, closed-when-paid, REFUND still paid', async () => {
    const request = trade();
    const created = await native().createTrade(request);
    expect(created.payAction).toEqual({
      type: 'qr',
      content: expect.stringMatching(/^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/),
    });
    // The same order again is the same code.
    expect(await native().createTrade(request)).toEqual(created);
    expect(await native().queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'PAYING' });
    const scanned = await fetch(
      `${wechatpay.base}/bizpayurl?${payActionTarget(created.payAction).split('?')[1]}`,
    );
    expect(await scanned.text()).toContain('¥19.99');

    expect((await pay(request.channelOrderNo)).status).toBe(200);
    const paid = await native().queryTrade(ref(request.channelOrderNo));
    expect(paid).toMatchObject({ status: 'SUCCESS', amount: 1999, currency: 'CNY' });
    expect((paid as { providerTradeNo: string }).providerTradeNo).toMatch(/^4200\d{24}$/);
    expect(await native().closeTrade(ref(request.channelOrderNo))).toMatchObject({
      result: 'ALREADY_PAID',
      outcome: { status: 'SUCCESS', amount: 1999 },
    });
    // A paid order again: ORDERPAID, an unknown outcome for a create (the poller finds out).
    await expect(native().createTrade(request)).rejects.toBeInstanceOf(ChannelUnavailableError);

    const refund = refundOf(request, `rf_${request.channelOrderNo}`);
    expect(await native().queryRefund(refund.refundNo, refund.attempt)).toBe('NOT_FOUND');
    expect(await native().refund(refund)).toBe('PROCESSING');
    // Refunding started: the order reads REFUND, which is still a payment, never a closed trade.
    expect(await native().queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'SUCCESS' });
    await eventually(
      'refund done',
      async () => (await native().queryRefund(refund.refundNo, refund.attempt)) === 'SUCCESS',
    );
    // The same out_refund_no again answers the refund as it is: nothing more moves.
    expect(await native().refund(refund)).toBe('SUCCESS');
    const book = await ledger(request.merchantOrderNo);
    expect(book.trades).toEqual([
      expect.objectContaining({ channelOrderNo: request.channelOrderNo, amount: 1999, status: 'PAID' }),
    ]);
    expect(book.refunds).toEqual([
      { refundNo: refund.refundNo, channelOrderNo: request.channelOrderNo, amount: 1999, status: 'SUCCESS' },
    ]);
    // More than the order is refused by WeChat Pay: a refusal, not a retry.
    await expect(native().refund(refundOf(request, `${refund.refundNo}_2`, 1))).rejects.toBeInstanceOf(
      ChannelRejectedError,
    );
    // The refund's notification says so, and is a refund, never a payment outcome.
    const told = await eventually('REFUND.SUCCESS', async () =>
      receiver.received.find((entry) => entry.event.event_type === 'REFUND.SUCCESS'),
    );
    expect(await wechatpay.provider.verifyNotification(notification(told.rawBody, told.headers))).toEqual({
      kind: 'refund',
      refunds: [{ refundNo: refund.refundNo, status: 'SUCCESS' }],
    });
  });

  it.each([1, 99, 100, 1_000_000])(
    'sends %i fen as the integer total, and reads it back exactly',
    async (fen) => {
      const request = trade({ money: { amount: fen, currency: 'CNY' } });
      await native().createTrade(request);
      const sent = JSON.parse(
        requests.filter((entry) => entry.url === '/v3/pay/transactions/native').at(-1)!.body,
      );
      expect(sent.amount).toEqual({ total: fen, currency: 'CNY' });
      await pay(request.channelOrderNo);
      expect((await ledger(request.merchantOrderNo)).trades[0].amount).toBe(fen);
      expect(await native().queryTrade(ref(request.channelOrderNo))).toMatchObject({
        status: 'SUCCESS',
        amount: fen,
      });
    },
  );

  it('passes the expiry as time_expire (RFC 3339, +08:00): past it the order cannot be paid, and closes', async () => {
    const expireAt = new Date(Date.now() + 1500);
    const request = trade({ expireAt });
    await native().createTrade(request);
    const sent = JSON.parse(
      requests.filter((entry) => entry.url === '/v3/pay/transactions/native').at(-1)!.body,
    );
    expect(sent.time_expire).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    expect(new Date(sent.time_expire).getTime()).toBe(Math.floor(expireAt.getTime() / 1000) * 1000);
    expect(sent).toMatchObject({
      out_trade_no: request.channelOrderNo,
      attach: request.merchantOrderNo,
      notify_url: receiver.url,
    });
    await sleep(1700);
    expect((await pay(request.channelOrderNo)).status).toBe(409);
    // As WeChat Pay documents it: NOTPAY until the merchant closes it.
    expect(await native().queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'PAYING' });
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('EXPIRED');
    expect(await native().closeTrade(ref(request.channelOrderNo))).toEqual({ result: 'CLOSED' });
    expect(await native().queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'CLOSED' });
    // Closing again is fine; a closed order again is an unknown outcome for a create.
    expect(await native().closeTrade(ref(request.channelOrderNo))).toEqual({ result: 'CLOSED' });
    await expect(native().createTrade(request)).rejects.toBeInstanceOf(ChannelUnavailableError);
  });

  it('error codes: ORDER_NOT_EXIST is not found, OUT_TRADE_NO_USED and an unknown refund refused, 5xx a failure', async () => {
    expect(await native().queryTrade(ref('co_never_created'))).toBe('NOT_FOUND');
    expect(await native().closeTrade(ref('co_never_created'))).toEqual({ result: 'NOT_FOUND' });
    const request = trade();
    await native().createTrade(request);
    await expect(native().createTrade({ ...request, money: { amount: 1, currency: 'CNY' } })).rejects.toThrow(
      /OUT_TRADE_NO_USED/,
    );
    // Refunding an unpaid order is refused.
    await expect(native().refund(refundOf(request, 'rf_unpaid'))).rejects.toThrow(/INVALID_REQUEST/);
    await expect(
      native().createTrade(trade({ money: { amount: 100, currency: 'USD' } })),
    ).rejects.toBeInstanceOf(ChannelRejectedError);
    await faults({ queryErrorRate: 1 });
    await expect(native().queryTrade(ref(request.channelOrderNo))).rejects.toThrow(/SYSTEM_ERROR/);
  });

  it('verifies notifications: a real one, and forged signature, old timestamp, wrong key, foreign mchid', async () => {
    const request = trade();
    await native().createTrade(request);
    await pay(request.channelOrderNo);
    const [real] = await eventually('notification', async () => {
      const found = await notificationsOf(request.channelOrderNo);
      return found.length > 0 && found;
    });
    expect(real!.read).toMatchObject({
      kind: 'payment',
      providerTradeNo: expect.stringMatching(/^4200/),
      outcome: { status: 'SUCCESS', amount: 1999, currency: 'CNY' },
    });
    const rejected = (request: Parameters<WechatpayProvider['verifyNotification']>[0]) =>
      wechatpay.provider.verifyNotification(request).then(
        () => 'accepted',
        (error: unknown) => (error instanceof NotifyRejectedError ? error.status : 'other'),
      );
    // The real body, one byte changed.
    expect(
      await rejected(
        notification(
          real!.entry.rawBody.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESZ"'),
          real!.entry.headers,
        ),
      ),
    ).toBe(401);
    // Signed by the platform key 400 s ago (a replay beyond the window).
    expect(
      await rejected(
        signed(transactionEvent(paidTransaction(request.channelOrderNo)), { atMs: Date.now() - 400_000 }),
      ),
    ).toBe(401);
    // Signed by another key, or under another serial.
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(
      await rejected(signed(transactionEvent(paidTransaction(request.channelOrderNo)), { key: stranger })),
    ).toBe(401);
    expect(
      await rejected(
        signed(transactionEvent(paidTransaction(request.channelOrderNo)), { serial: 'PUB_KEY_ID_OTHER' }),
      ),
    ).toBe(401);
    // Correctly signed, but the resource encrypted under another APIv3 key.
    expect(
      await rejected(signed(transactionEvent(paidTransaction(request.channelOrderNo), 'x'.repeat(32)))),
    ).toBe(401);
    // Correctly signed and encrypted, for another merchant or app.
    expect(
      await rejected(
        signed(transactionEvent(paidTransaction(request.channelOrderNo, { mchid: '1900000999' }))),
      ),
    ).toBe(401);
    expect(
      await rejected(
        signed(transactionEvent(paidTransaction(request.channelOrderNo, { appid: 'wx0000000000000000' }))),
      ),
    ).toBe(401);
    // A genuine one for another amount reads as that amount (settling refuses it: system tests).
    expect(
      await wechatpay.provider.verifyNotification(
        signed(
          transactionEvent(
            paidTransaction(request.channelOrderNo, { amount: { total: 1, currency: 'CNY' } }),
          ),
        ),
      ),
    ).toMatchObject({ outcome: { amount: 1 } });
    // The replayed real one within the window reads the same (settling it again changes nothing).
    expect(
      await wechatpay.provider.verifyNotification(notification(real!.entry.rawBody, real!.entry.headers)),
    ).toEqual(real!.read);
    // Other event types are taken and ignored.
    expect(
      await wechatpay.provider.verifyNotification(
        signed({ ...transactionEvent({}), event_type: 'PROFITSHARING.SUCCESS' }),
      ),
    ).toMatchObject({ kind: 'ignored' });
    // The answers WeChat Pay reads.
    expect(wechatpay.provider.acknowledge({ accepted: true })).toMatchObject({ status: 204, body: '' });
    expect(
      wechatpay.provider.acknowledge({ accepted: false, status: 401, code: 'BAD_SIGNATURE', message: 'bad' }),
    ).toEqual({
      status: 401,
      contentType: 'application/json',
      body: JSON.stringify({ code: 'FAIL', message: 'bad' }),
    });
  });

  it('retries a notification on WeChat Pay schedule until answered 2xx, the same notification each time', async () => {
    receiver.answers = [500, 400, 503];
    const request = trade();
    await native().createTrade(request);
    const before = receiver.received.length;
    await pay(request.channelOrderNo);
    await eventually('four sends', async () => receiver.received.length - before >= 4, 5000);
    await sleep(1500); // the next retry would be 0.18 s after the fourth (3 min scaled)
    const sends = receiver.received.slice(before);
    expect(sends).toHaveLength(4);
    expect(new Set(sends.map((entry) => entry.event.id)).size).toBe(1);
    // Signed anew for each send.
    expect(new Set(sends.map((entry) => entry.headers['wechatpay-nonce'])).size).toBe(4);
  });

  it('bad answer signatures are provider failures, never believed; recovered once fixed', async () => {
    const request = trade();
    await native().createTrade(request);
    await faults({ badResponseSignature: true });
    await expect(native().queryTrade(ref(request.channelOrderNo))).rejects.toThrow(
      /EV3_RES_HEADER_SIGNATURE_DIGEST/,
    );
    // The 204 of a close is signed too, and not believed either.
    await expect(native().closeTrade(ref(request.channelOrderNo))).rejects.toBeInstanceOf(
      ChannelUnavailableError,
    );
    await expect(native().createTrade(trade())).rejects.toBeInstanceOf(ChannelUnavailableError);
    // WeChat Pay did close it; we only did not believe the answer. Asked again, it closes (idempotent).
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('CLOSED');
    await faults(undefined);
    expect(await native().closeTrade(ref(request.channelOrderNo))).toEqual({ result: 'CLOSED' });
  });

  it('close: 202 USER_PAYING during a password entry is not closed (IN_PAYMENT), the order stays payable and is paid', async () => {
    const request = trade();
    await native().createTrade(request);
    const paying = await control('POST', `/sandbox/trades/${request.channelOrderNo}/start-paying`);
    expect(paying.status).toBe(200);
    expect(JSON.parse(paying.text)).toMatchObject({ trade_state: 'USERPAYING' });
    expect(await native().queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'PAYING' });
    // Only 204 closes: the signed 202 says the shopper is entering the password.
    expect(await native().closeTrade(ref(request.channelOrderNo))).toEqual({ result: 'IN_PAYMENT' });
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('WAITING');
    // The 202 is a 2xx: the plugin verifies its signature like any answer's.
    await faults({ badResponseSignature: true });
    await expect(native().closeTrade(ref(request.channelOrderNo))).rejects.toThrow(
      /EV3_RES_HEADER_SIGNATURE_DIGEST/,
    );
    await faults(undefined);
    // After the closes, the password entry completes the payment.
    expect((await pay(request.channelOrderNo)).status).toBe(200);
    expect(await native().queryTrade(ref(request.channelOrderNo))).toMatchObject({
      status: 'SUCCESS',
      amount: 1999,
    });
    // A close now answers as for any paid order.
    expect(await native().closeTrade(ref(request.channelOrderNo))).toMatchObject({
      result: 'ALREADY_PAID',
      outcome: { status: 'SUCCESS', amount: 1999 },
    });
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('PAID');

    // A password entry given up: the order waits again, and a close closes it.
    const abandoned = trade();
    await native().createTrade(abandoned);
    await control('POST', `/sandbox/trades/${abandoned.channelOrderNo}/start-paying`);
    expect(await native().closeTrade(ref(abandoned.channelOrderNo))).toEqual({ result: 'IN_PAYMENT' });
    expect((await control('POST', `/sandbox/trades/${abandoned.channelOrderNo}/stop-paying`)).status).toBe(
      200,
    );
    expect(await native().closeTrade(ref(abandoned.channelOrderNo))).toEqual({ result: 'CLOSED' });
    expect((await pay(abandoned.channelOrderNo)).status).toBe(409);
    // Nothing to start paying once closed.
    expect((await control('POST', `/sandbox/trades/${abandoned.channelOrderNo}/start-paying`)).status).toBe(
      409,
    );
    expect((await control('POST', '/sandbox/trades/co_never_created/start-paying')).status).toBe(404);
  });

  it.each(['FREQUENCY_LIMITED', 'SYSTEM_ERROR'])(
    'close answered %s: a provider failure (retried), never a refusal; the order is closed by the retry',
    async (code) => {
      // A provider of its own: these failures count against its breaker.
      const fresh = makeProvider().channels[0]!;
      const request = trade();
      await fresh.createTrade(request);
      await faults({ closeErrorRate: 1 });
      await wechatpayFaults({ closeErrorCode: code });
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const failed = await fresh.closeTrade(ref(request.channelOrderNo)).catch((error: unknown) => error);
        expect(failed).toBeInstanceOf(ChannelUnavailableError);
        expect(failed).not.toBeInstanceOf(ChannelRejectedError);
        expect((failed as Error).message).toContain(code);
      }
      expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('WAITING');
      await faults(undefined);
      expect(await fresh.closeTrade(ref(request.channelOrderNo))).toEqual({ result: 'CLOSED' });
      expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('CLOSED');
    },
  );

  it('a close refused for the request itself is a refusal, and closes nothing', async () => {
    const other = makeProvider({ WECHATPAY_MCHID: '1900000999' }).channels[0]!;
    const request = trade();
    await native().createTrade(request);
    const refused = await other.closeTrade(ref(request.channelOrderNo)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ChannelRejectedError);
    expect((refused as Error).message).toMatch(/SIGN_ERROR/);
    expect((await ledger(request.merchantOrderNo)).trades[0].status).toBe('WAITING');
  });

  it('refund ABNORMAL: MANUAL_REQUIRED by query and by REFUND.ABNORMAL, the money held (no second refund), then applied for and paid out', async () => {
    const request = trade();
    await native().createTrade(request);
    await pay(request.channelOrderNo);
    const refund = refundOf(request, `rf_${request.channelOrderNo}`);
    await wechatpayFaults({ refundAbnormalRate: 1 });
    expect(await native().refund(refund)).toBe('PROCESSING');
    await eventually(
      'refund abnormal',
      async () => (await native().queryRefund(refund.refundNo, refund.attempt)) === 'MANUAL_REQUIRED',
    );
    const detail = await native().queryRefundDetail(refund.refundNo);
    expect(detail).toEqual({
      refundNo: refund.refundNo,
      providerRefundId: expect.stringMatching(/^5030\d{26}$/),
      wechatStatus: 'ABNORMAL',
      status: 'MANUAL_REQUIRED',
      channel: 'ORIGINAL',
      userReceivedAccount: '支付用户零钱',
    });
    const providerRefundId = (detail as { providerRefundId: string }).providerRefundId;
    // The notification says the same.
    const told = await eventually('REFUND.ABNORMAL', async () => {
      for (const entry of receiver.received.filter((one) => one.event.event_type === 'REFUND.ABNORMAL')) {
        const read = await wechatpay.provider.verifyNotification(notification(entry.rawBody, entry.headers));
        if (read.kind === 'refund' && read.refunds[0]?.refundNo === refund.refundNo) return read;
      }
      return undefined;
    });
    expect(told).toEqual({
      kind: 'refund',
      refunds: [{ refundNo: refund.refundNo, status: 'MANUAL_REQUIRED' }],
    });
    // The same out_refund_no again answers it as it is; WeChat Pay still holds the money, so a new
    // refund of it is refused.
    expect(await native().refund(refund)).toBe('MANUAL_REQUIRED');
    await expect(native().refund(refundOf(request, `${refund.refundNo}_2`))).rejects.toThrow(
      /INVALID_REQUEST/,
    );
    expect((await ledger(request.merchantOrderNo)).refunds).toEqual([
      expect.objectContaining({ refundNo: refund.refundNo, status: 'FAILED' }),
    ]);

    // A person applies for the abnormal refund: to the shopper's debit card, its details encrypted.
    const card = {
      type: 'USER_BANK_CARD',
      bankType: 'CMB_DEBIT',
      bankAccount: '6214830100000403',
      realName: '张三',
    } as const;
    await expect(
      native().applyAbnormalRefund(refund.refundNo, '503000000000000000000000000000', card),
    ).rejects.toThrow(/RESOURCE_NOT_EXISTS/);
    expect(await native().applyAbnormalRefund(refund.refundNo, providerRefundId, card)).toMatchObject({
      providerRefundId,
      wechatStatus: 'PROCESSING',
      status: 'PROCESSING',
      channel: 'OTHER_BANKCARD',
    });
    const sent = requests.filter((entry) => entry.url.endsWith('/apply-abnormal-refund')).at(-1)!;
    expect(JSON.parse(sent.body)).toMatchObject({
      out_refund_no: refund.refundNo,
      type: 'USER_BANK_CARD',
      bank_type: 'CMB_DEBIT',
    });
    expect(sent.body).not.toContain('6214830100000403');
    expect(sent.body).not.toContain('张三');
    await eventually(
      'paid out',
      async () => (await native().queryRefund(refund.refundNo, refund.attempt)) === 'SUCCESS',
    );
    expect((await ledger(request.merchantOrderNo)).refunds).toEqual([
      expect.objectContaining({ refundNo: refund.refundNo, status: 'SUCCESS' }),
    ]);
    // The same application again answers the refund as it is; another way is refused.
    expect(await native().applyAbnormalRefund(refund.refundNo, providerRefundId, card)).toMatchObject({
      status: 'SUCCESS',
    });
    await expect(
      native().applyAbnormalRefund(refund.refundNo, providerRefundId, { type: 'MERCHANT_BANK_CARD' }),
    ).rejects.toBeInstanceOf(ChannelRejectedError);
    await eventually('REFUND.SUCCESS', async () =>
      receiver.received.some((entry) => entry.event.event_type === 'REFUND.SUCCESS'),
    );
  });

  it('refund ABNORMAL by the control API; paid out to the merchant account; only an ABNORMAL refund can be applied for', async () => {
    // A sandbox whose refunds stay PROCESSING for WeChat Pay's 3 s, for the control API to catch one.
    const slow = buildWechatpaySandbox(SANDBOX_WECHATPAY_SERVER_KEYS);
    await slow.listen({ port: 0, host: '127.0.0.1' });
    try {
      const slowBase = `http://127.0.0.1:${(slow.server.address() as { port: number }).port}`;
      const channel = makeProvider({ WECHATPAY_BASE_URL: `${slowBase}/` }).channels[0]!;
      const request = trade();
      await channel.createTrade(request);
      await fetch(`${slowBase}/sandbox/trades/${request.channelOrderNo}/pay`, { method: 'POST' });
      const refund = refundOf(request, `rf_${request.channelOrderNo}`, 1000);
      expect(await channel.refund(refund)).toBe('PROCESSING');
      const abnormal = (refundNo: string) =>
        fetch(`${slowBase}/sandbox/refunds/${refundNo}/abnormal`, { method: 'POST' });
      const marked = await abnormal(refund.refundNo);
      expect(marked.status).toBe(200);
      expect(await marked.json()).toMatchObject({ out_refund_no: refund.refundNo, status: 'ABNORMAL' });
      expect(await channel.queryRefund(refund.refundNo, refund.attempt)).toBe('MANUAL_REQUIRED');
      // Only a PROCESSING refund can be made abnormal; an unknown one is not found.
      expect((await abnormal(refund.refundNo)).status).toBe(409);
      expect((await abnormal('rf_never')).status).toBe(404);

      const { providerRefundId } = (await channel.queryRefundDetail(refund.refundNo)) as {
        providerRefundId: string;
      };
      // To the shopper's card, the card's details are required.
      await expect(
        channel.applyAbnormalRefund(refund.refundNo, providerRefundId, {
          type: 'USER_BANK_CARD',
          bankType: '',
          bankAccount: '',
          realName: '',
        }),
      ).rejects.toBeInstanceOf(ChannelRejectedError);
      expect(
        await channel.applyAbnormalRefund(refund.refundNo, providerRefundId, { type: 'MERCHANT_BANK_CARD' }),
      ).toMatchObject({
        status: 'PROCESSING',
        channel: 'OTHER_BANKCARD',
        userReceivedAccount: '商户结算银行账户',
      });
      expect(await channel.queryRefund(refund.refundNo)).toBe('PROCESSING');

      // A refund that is not ABNORMAL cannot be applied for.
      const second = refundOf(request, `rf_2_${request.channelOrderNo}`, 500);
      await channel.refund(second);
      const secondId = ((await channel.queryRefundDetail(second.refundNo)) as { providerRefundId: string })
        .providerRefundId;
      await expect(
        channel.applyAbnormalRefund(second.refundNo, secondId, { type: 'MERCHANT_BANK_CARD' }),
      ).rejects.toThrow(/INVALID_REQUEST/);
      await eventually(
        'paid out',
        async () => (await channel.queryRefund(refund.refundNo)) === 'SUCCESS',
        8000,
      );
    } finally {
      await slow.close();
    }
  });

  it("refund CLOSED (the kit's refundFailRate) is FAILED, and frees its money for a new refund", async () => {
    const request = trade();
    await native().createTrade(request);
    await pay(request.channelOrderNo);
    await faults({ refundFailRate: 1 });
    const closed = refundOf(request, `rf_${request.channelOrderNo}`);
    await native().refund(closed);
    await eventually('closed', async () => (await native().queryRefund(closed.refundNo)) === 'FAILED');
    expect(await native().queryRefundDetail(closed.refundNo)).toMatchObject({ wechatStatus: 'CLOSED' });
    await faults(undefined);
    const again = refundOf(request, `rf_2_${request.channelOrderNo}`);
    expect(await native().refund(again)).toBe('PROCESSING');
    await eventually('refunded', async () => (await native().queryRefund(again.refundNo)) === 'SUCCESS');
  });

  it('public-key mode: every request names the public key; an answer without it is signed by a platform certificate, refused unless configured', async () => {
    const request = trade();
    const before = requests.length;
    await native().createTrade(request);
    await native().queryTrade(ref(request.channelOrderNo));
    await native().closeTrade(ref(request.channelOrderNo));
    const sent = requests.slice(before);
    expect(sent.map((entry) => entry.serial)).toEqual([
      SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
      SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
      SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
    ]);

    // The plugin as it comes, configured with the public key only, and no Wechatpay-Serial header.
    const plugin = (certs: Record<string, string>) =>
      new Wechatpay({
        mchid: SANDBOX_WECHATPAY_MCHID,
        serial: SANDBOX_WECHATPAY_SERIAL,
        privateKey: SANDBOX_WECHATPAY_MERCHANT_PRIVATE_KEY,
        certs,
        baseURL: `${wechatpay.base}/`,
      });
    const query = (client: Wechatpay, headers: Record<string, string> = {}) =>
      client.v3.pay.transactions.outTradeNo._out_trade_no_.get({
        out_trade_no: request.channelOrderNo,
        params: { mchid: SANDBOX_WECHATPAY_MCHID },
        headers,
      });
    const publicKeyOnly = plugin({ [SANDBOX_WECHATPAY_PUBLIC_KEY_ID]: SANDBOX_WECHATPAY_PUBLIC_KEY });
    await expect(query(publicKeyOnly)).rejects.toMatchObject({ code: 'EV3_RES_HEADER_PLATFORM_SERIAL' });
    const named = await query(publicKeyOnly, { 'Wechatpay-Serial': SANDBOX_WECHATPAY_PUBLIC_KEY_ID });
    expect(named.status).toBe(200);
    expect(named.headers['wechatpay-serial']).toBe(SANDBOX_WECHATPAY_PUBLIC_KEY_ID);
    // A client that also holds the certificate (a merchant migrating) takes the certificate's answer.
    const migrating = plugin({
      [SANDBOX_WECHATPAY_PUBLIC_KEY_ID]: SANDBOX_WECHATPAY_PUBLIC_KEY,
      [SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL]: SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE,
    });
    const byCertificate = await query(migrating);
    expect(byCertificate.status).toBe(200);
    expect(byCertificate.headers['wechatpay-serial']).toBe(SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL);
    expect(byCertificate.data).toMatchObject({ out_trade_no: request.channelOrderNo, trade_state: 'CLOSED' });
  });

  it('notifications signed by a configured platform certificate are accepted, by an unknown one refused', async () => {
    const migrating = makeProvider(
      {},
      { [SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL]: SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE },
    );
    await wechatpayFaults({ notifySignWith: 'platform-cert' });
    const request = trade();
    await migrating.channels[0]!.createTrade(request);
    await pay(request.channelOrderNo);
    const told = await eventually('notification', async () => {
      for (const entry of receiver.received) {
        if (entry.headers['wechatpay-serial'] !== SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL) continue;
        const read = await migrating
          .verifyNotification(notification(entry.rawBody, entry.headers))
          .catch(() => undefined);
        if (read?.kind === 'payment' && read.channelOrderNo === request.channelOrderNo)
          return { entry, read };
      }
      return undefined;
    });
    expect(told.read).toMatchObject({ kind: 'payment', outcome: { status: 'SUCCESS', amount: 1999 } });
    const rejected = (
      target: WechatpayProvider,
      request: Parameters<WechatpayProvider['verifyNotification']>[0],
    ) =>
      target.verifyNotification(request).then(
        () => 'accepted',
        (error: unknown) => (error instanceof NotifyRejectedError ? error.status : 'other'),
      );
    // Configured with the public key only, the certificate's notification is refused (WeChat Pay sends it again).
    expect(await rejected(wechatpay.provider, notification(told.entry.rawBody, told.entry.headers))).toBe(
      401,
    );
    // Signed by the certificate key: accepted; by the public key: accepted too (the migration's both).
    const event = transactionEvent(paidTransaction(request.channelOrderNo));
    const certificate = {
      key: SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY,
      serial: SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL,
    };
    expect(await rejected(migrating, signed(event, certificate))).toBe('accepted');
    expect(await rejected(migrating, signed(event))).toBe('accepted');
    // A serial given in lower case is the same certificate.
    expect(
      await rejected(migrating, signed(event, { ...certificate, serial: certificate.serial.toLowerCase() })),
    ).toBe('accepted');
    // An unknown certificate, or a known serial with another key, or a certificate's key under the public key's id.
    expect(
      await rejected(
        migrating,
        signed(event, { key: stranger(), serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' }),
      ),
    ).toBe(401);
    expect(await rejected(migrating, signed(event, { key: stranger(), serial: certificate.serial }))).toBe(
      401,
    );
    expect(await rejected(migrating, signed(event, { key: certificate.key }))).toBe(401);

    // Answers: the migrating client names the public key too, so WeChat Pay answers with it.
    expect(await migrating.channels[0]!.queryTrade(ref(request.channelOrderNo))).toMatchObject({
      status: 'SUCCESS',
    });
  });

  it('answers signed by a configured platform certificate are taken (a merchant that has not switched the public key on yet)', async () => {
    const migrating = makeProvider(
      {},
      { [SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL]: SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE },
    ).channels[0]!;
    const fresh = makeProvider().channels[0]!;
    const request = trade();
    await native().createTrade(request);
    await wechatpayFaults({ answerSignWith: 'platform-cert' });
    expect(await migrating.queryTrade(ref(request.channelOrderNo))).toMatchObject({ status: 'PAYING' });
    // Without the certificate configured, the same answer is not believed.
    await expect(fresh.queryTrade(ref(request.channelOrderNo))).rejects.toThrow(
      /EV3_RES_HEADER_PLATFORM_SERIAL/,
    );
  });

  it('platform certificates are checked at start: a hex serial, the certificate of that serial, a PEM', () => {
    const certs = (value: Record<string, string>) => () => makeProvider({}, value);
    expect(certs({ PUB_KEY_ID_X: SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE })).toThrow(
      /WECHATPAY_PLATFORM_CERTS/,
    );
    expect(
      certs({ '5157F09EFDC096DE15EBE81A47057A7232F1B8E1': SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE }),
    ).toThrow(
      /WECHATPAY_PLATFORM_CERTS: the certificate listed under 5157F09EFDC096DE15EBE81A47057A7232F1B8E1 has serial 3A7F1C52/,
    );
    expect(certs({ [SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL]: 'not a pem' })).toThrow(
      /WECHATPAY_PLATFORM_CERTS/,
    );
    expect(certs({ [SANDBOX_WECHATPAY_SERIAL]: SANDBOX_WECHATPAY_PUBLIC_KEY })).toThrow(/merchant's own/);
    // The certificate's public key as SPKI PEM is taken too.
    expect(certs({ [SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL]: SANDBOX_WECHATPAY_PUBLIC_KEY })).not.toThrow();
  });

  it('the sandbox refuses requests not signed by the merchant key', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const impostor = makeProvider({ WECHATPAY_PRIVATE_KEY: stranger });
    await expect(impostor.channels[0]!.createTrade(trade())).rejects.toThrow(/SIGN_ERROR/);
    const otherSerial = makeProvider({ WECHATPAY_SERIAL: 'ABCDEF0123456789' });
    await expect(otherSerial.channels[0]!.queryTrade(ref('co_any_order'))).rejects.toThrow(/SIGN_ERROR/);
  });

  it('bad settings stop the start, naming the variable', () => {
    expect(() => makeProvider({ WECHATPAY_PRIVATE_KEY: 'not a key' })).toThrow(/WECHATPAY_PRIVATE_KEY/);
    expect(() => makeProvider({ WECHATPAY_PUBLIC_KEY: SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY })).toThrow(
      /WECHATPAY_PUBLIC_KEY/,
    );
    expect(() => makeProvider({ WECHATPAY_APIV3_KEY: 'short' })).toThrow(/WECHATPAY_APIV3_KEY/);
    expect(() => makeProvider({ WECHATPAY_PUBLIC_KEY_ID: '5157F09EFDC096DE' })).toThrow(
      /WECHATPAY_PUBLIC_KEY_ID/,
    );
  });
});
