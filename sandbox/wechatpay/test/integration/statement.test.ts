/**
 * WeChat Pay's statement through our provider and the official wechatpay-axios-plugin against the
 * sandbox: the day's bill applied for (signed), downloaded (gzip, unsigned), its SHA-1 checked,
 * read line by line into exact fen (fees of five decimals rounded, their text kept), refunds still
 * PROCESSING marked provisional; and each of the sandbox's statement faults refused with its reason.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { CreateTradeRequest } from '@payments/core';
import { chinaDateTime, WechatpayProvider } from '@payments/providers';
import { eventually, linesOf, statementSandbox } from '@payments/testkit';
import { SANDBOX_WECHATPAY_SERVER_KEYS, sandboxWechatpayEnv } from '../../src/keys';
import { buildWechatpaySandbox } from '../../src/server';

describe('WeChat Pay statement: the trade bill through wechatpay-axios-plugin against the sandbox', () => {
  const wechatpay = statementSandbox({
    name: 'wechatpay',
    // WeChat Pay's own pace: a refund stays PROCESSING for 3 s.
    build: () => buildWechatpaySandbox({ ...SANDBOX_WECHATPAY_SERVER_KEYS, notifyTimeScale: 1 }),
    env: sandboxWechatpayEnv,
    makeProvider: (config, kit) => new WechatpayProvider(config, kit),
  });
  const { control, providerFaults, refusal } = wechatpay;
  const today = () => chinaDateTime(new Date()).slice(0, 10);
  let sequence = 0;
  const trade = (amount: number, merchantOrderNo: string): CreateTradeRequest => ({
    channelOrderNo: `co_wxs_${Date.now().toString(36)}_${(sequence += 1)}`,
    merchantOrderNo,
    money: { amount, currency: 'CNY' },
    subject: 'Blue teapot',
    expireAt: new Date(Date.now() + 15 * 60_000),
    // Nobody listens: the sandbox's retries are cancelled when it closes.
    notifyUrl: 'http://127.0.0.1:9/notify',
    requestedAt: new Date(),
  });
  const paid: CreateTradeRequest[] = [];

  beforeAll(async () => {
    await wechatpay.start();
    const native = wechatpay.provider.channels[0]!;
    // 19.99 yuan; 1 fen (its fee, 0.00006 yuan, rounds to nothing); an attach holding commas.
    for (const request of [trade(1999, 'mo-wxs-1'), trade(1, 'mo-wxs-2'), trade(12345, 'mo,with,commas')]) {
      await native.createTrade(request);
      expect((await control('POST', `/sandbox/trades/${request.channelOrderNo}/pay`)).status).toBe(200);
      paid.push(request);
    }
    const refundOf = (request: CreateTradeRequest, refundNo: string, amount: number) => ({
      refundNo,
      attempt: { channelOrderNo: request.channelOrderNo, providerTradeNo: null },
      money: { amount, currency: 'CNY' },
      paid: request.money,
      notifyUrl: 'http://127.0.0.1:9/notify',
    });
    expect(await native.refund(refundOf(paid[0]!, 'rf_wxs_done', 500))).toBe('PROCESSING');
    await eventually(
      'the first refund settled',
      async () => (await native.queryRefund('rf_wxs_done')) === 'SUCCESS',
      8000,
    );
    // Still PROCESSING when the bill is made.
    expect(await native.refund(refundOf(paid[2]!, 'rf_wxs_open', 12345))).toBe('PROCESSING');
  });
  afterEach(async () => {
    await control('DELETE', '/sandbox/wechatpay-faults');
  });
  afterAll(() => wechatpay.stop());

  it("reads the day's payments and refunds in exact fen, fees rounded with their text kept, the summary agreeing", async () => {
    const statement = await wechatpay.provider.statements.fetchStatement(today());
    expect(statement).toMatchObject({ provider: 'wechatpay', date: today() });
    // Downloaded gzip, spooled as downloaded (a file, never a Buffer held), with its SHA-256.
    expect(Buffer.isBuffer(statement.raw)).toBe(false);
    const raw = await readFile(statement.raw.path);
    expect(raw.length).toBe(statement.raw.byteLength);
    expect(raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(statement.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    const lines = await linesOf(statement.lines());
    const payment = (request: CreateTradeRequest) =>
      lines.find((line) => line.kind === 'PAYMENT' && line.channelOrderNo === request.channelOrderNo);
    expect(payment(paid[0]!)).toMatchObject({
      amount: 1999,
      currency: 'CNY',
      fee: 12,
      exactFee: '0.11994',
      refundNo: null,
      providerTradeNo: expect.stringMatching(/^4200\d{24}$/),
    });
    expect(payment(paid[1]!)).toMatchObject({ amount: 1, fee: 0, exactFee: '0.00006' });
    expect(payment(paid[2]!)).toMatchObject({ amount: 12345, fee: 74, exactFee: '0.74070' });
    const refunds = lines.filter((line) => line.kind === 'REFUND');
    expect(refunds).toHaveLength(2);
    const done = refunds.find((line) => line.refundNo === 'rf_wxs_done')!;
    // 0.03000 yuan returned: whole fen, its text kept all the same; final, so not provisional.
    expect(done).toMatchObject({
      channelOrderNo: paid[0]!.channelOrderNo,
      amount: 500,
      fee: -3,
      exactFee: '-0.03000',
    });
    expect(done.provisional).toBeUndefined();
    expect(done.providerRefundNo).toMatch(/^5030\d{26}$/);
    expect(refunds.find((line) => line.refundNo === 'rf_wxs_open')).toMatchObject({
      channelOrderNo: paid[2]!.channelOrderNo,
      amount: 12345,
      fee: -74,
      exactFee: '-0.74070',
      provisional: true,
    });
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(Math.abs(line.at.getTime() - Date.now())).toBeLessThan(120_000);
    expect(statement.summary).toEqual({
      lines: 5,
      totals: {
        // 0.11994 + 0.00006 + 0.74070 - 0.03000 - 0.74070 = 0.09000 yuan: whole fen.
        CNY: { payments: 1999 + 1 + 12345, refunds: 500 + 12345, fees: 9, exactFees: '0.09000' },
      },
    });
    // Disposed of, the spool is gone.
    await statement.dispose();
    expect(existsSync(statement.raw.path)).toBe(false);
  });

  it('a day without trades is an empty statement (NO_STATEMENT_EXIST)', async () => {
    const statement = await wechatpay.provider.statements.fetchStatement('2026-01-01');
    expect(statement.summary).toEqual({ lines: 0, totals: {} });
    expect(await linesOf(statement.lines())).toEqual([]);
    await statement.dispose();
  });

  it('asked before the bill is made (STATEMENT_CREATING): NOT_READY', async () => {
    await providerFaults({ statementNotReady: true });
    expect(await refusal(today())).toBe('NOT_READY');
  });

  it('a download cut short: UNREADABLE', async () => {
    await providerFaults({ statementTruncated: true });
    expect(await refusal(today())).toBe('UNREADABLE');
  });

  it('a bill whose SHA-1 is not the announced one: HASH_MISMATCH', async () => {
    await providerFaults({ statementWrongHash: true });
    expect(await refusal(today())).toBe('HASH_MISMATCH');
  });

  it('a date that is not a day is refused before any call', async () => {
    await expect(wechatpay.provider.statements.fetchStatement('2026-02-30')).rejects.toThrow(/not a date/);
  });
});
