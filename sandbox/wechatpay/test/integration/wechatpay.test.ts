/**
 * The official wechatpay-axios-plugin, through our WeChat Pay provider, against the WeChat Pay
 * sandbox over real HTTP: signatures both ways, error codes, fen, time_expire, the scanned page,
 * encrypted notifications and asynchronous refunds.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import {
  ChannelRejectedError,
  ChannelUnavailableError,
  chinaRfc3339,
  createLogger,
  createRegistry,
  loadConfig,
  NotifyRejectedError,
  payActionTarget,
  providerKit,
  SANDBOX_WECHATPAY_APIV3_KEY,
  SANDBOX_WECHATPAY_APPID,
  SANDBOX_WECHATPAY_MCHID,
  SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
  SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
  SANDBOX_WECHATPAY_SERIAL,
  WechatpayProvider,
  type CreateTradeRequest,
} from '@payments/common';
import { eventually, sleep } from '@payments/common/src/testing';
import { buildWechatpaySandbox } from '../../src/server';
import { encryptResource, signedHeaders } from '../../src/signing';

interface Received {
  headers: Record<string, string>;
  rawBody: string;
  event: { id: string; event_type: string; resource: { ciphertext: string } };
}

/** A merchant endpoint for WeChat Pay's notifications: records them raw, answers as told. */
class JsonReceiver {
  readonly received: Received[] = [];
  /** Statuses to answer, in order; once empty every request gets 204. */
  answers: number[] = [];
  url = '';
  private readonly app: FastifyInstance = Fastify({ logger: false });

  async start(): Promise<void> {
    this.app.removeContentTypeParser('application/json');
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, body, done) =>
      done(null, body),
    );
    this.app.post('/notify', async (request, reply) => {
      const rawBody = request.body as string;
      this.received.push({
        headers: request.headers as Record<string, string>,
        rawBody,
        event: JSON.parse(rawBody),
      });
      const status = this.answers.shift() ?? 204;
      return status === 204
        ? reply.code(204).send()
        : reply.code(status).send({ code: 'FAIL', message: 'x' });
    });
    await this.app.listen({ port: 0, host: '127.0.0.1' });
    this.url = `http://127.0.0.1:${(this.app.server.address() as { port: number }).port}/notify`;
  }

  stop() {
    return this.app.close();
  }
}

describe('WeChat Pay: wechatpay-axios-plugin against the sandbox', () => {
  let sandbox: FastifyInstance;
  let base: string;
  const receiver = new JsonReceiver();
  let provider: WechatpayProvider;
  let sequence = 0;
  /** What the sandbox received, as sent: the bodies the plugin signed. */
  const requests: { method: string; url: string; body: string }[] = [];

  const makeProvider = (env: Record<string, string> = {}) => {
    const config = loadConfig({ WECHATPAY_BASE_URL: `${base}/`, BREAKER_TIMEOUT: '2s', ...env });
    return new WechatpayProvider(
      config,
      providerKit(
        config,
        createRegistry(`wechat-test-${(sequence += 1)}`),
        createLogger('wechat-test', 'silent'),
      ),
    );
  };
  const native = () => provider.channels[0]!;
  const ref = (channelOrderNo: string) => ({ channelOrderNo, providerTradeNo: null });
  const trade = (overrides: Partial<CreateTradeRequest> = {}): CreateTradeRequest => {
    sequence += 1;
    return {
      channelOrderNo: `co_wx_${Date.now().toString(36)}_${sequence}`,
      merchantOrderNo: `mo-wx-${sequence}`,
      money: { amount: 1999, currency: 'CNY' },
      subject: 'Blue teapot',
      expireAt: new Date(Date.now() + 15 * 60_000),
      notifyUrl: receiver.url,
      ...overrides,
    };
  };
  const refundOf = (request: CreateTradeRequest, refundNo: string, amount = request.money.amount) => ({
    refundNo,
    attempt: ref(request.channelOrderNo),
    money: { amount, currency: 'CNY' },
    paid: request.money,
    notifyUrl: receiver.url,
  });
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const pay = (channelOrderNo: string) => control('POST', `/sandbox/trades/${channelOrderNo}/pay`);
  const faults = async (value: Record<string, unknown> | undefined) => {
    await control('DELETE', '/sandbox/faults');
    if (value) await control('PUT', '/sandbox/faults', value);
  };
  const ledger = async (merchantOrderNo: string) =>
    JSON.parse((await control('GET', `/sandbox/ledger?merchantOrderNo=${merchantOrderNo}`)).text);
  const notification = (rawBody: string, headers: Record<string, string>) => ({
    rawBody: Buffer.from(rawBody),
    contentType: 'application/json',
    headers,
  });
  /** The notifications about one order, decrypted by the provider under test. */
  const notificationsOf = async (channelOrderNo: string) => {
    const mine = [];
    for (const entry of receiver.received) {
      const read = await provider
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

  beforeAll(async () => {
    await receiver.start();
    sandbox = buildWechatpaySandbox({
      mchid: SANDBOX_WECHATPAY_MCHID,
      appid: SANDBOX_WECHATPAY_APPID,
      merchantSerial: SANDBOX_WECHATPAY_SERIAL,
      merchantPublicKey: SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
      publicKeyId: SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
      platformPrivateKey: SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
      apiV3Key: SANDBOX_WECHATPAY_APIV3_KEY,
      notifyTimeScale: 0.001,
    });
    sandbox.addHook('preHandler', async (request) => {
      if (request.url.startsWith('/v3/'))
        requests.push({ method: request.method, url: request.url, body: String(request.body ?? '') });
    });
    await sandbox.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(sandbox.server.address() as { port: number }).port}`;
    provider = makeProvider();
  });
  afterEach(async () => {
    await faults(undefined);
    receiver.answers = [];
  });
  afterAll(async () => {
    await sandbox.close();
    await receiver.stop();
  });

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
    const scanned = await fetch(`${base}/bizpayurl?${payActionTarget(created.payAction).split('?')[1]}`);
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
    expect(await provider.verifyNotification(notification(told.rawBody, told.headers))).toEqual({
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
      provider.verifyNotification(request).then(
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
      await provider.verifyNotification(
        signed(
          transactionEvent(
            paidTransaction(request.channelOrderNo, { amount: { total: 1, currency: 'CNY' } }),
          ),
        ),
      ),
    ).toMatchObject({ outcome: { amount: 1 } });
    // The replayed real one within the window reads the same (settling it again changes nothing).
    expect(await provider.verifyNotification(notification(real!.entry.rawBody, real!.entry.headers))).toEqual(
      real!.read,
    );
    // Other event types are taken and ignored.
    expect(
      await provider.verifyNotification(
        signed({ ...transactionEvent({}), event_type: 'PROFITSHARING.SUCCESS' }),
      ),
    ).toMatchObject({ kind: 'ignored' });
    // The answers WeChat Pay reads.
    expect(provider.acknowledge({ accepted: true })).toMatchObject({ status: 204, body: '' });
    expect(
      provider.acknowledge({ accepted: false, status: 401, code: 'BAD_SIGNATURE', message: 'bad' }),
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
