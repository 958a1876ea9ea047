/**
 * Alipay's statement through our provider and the official alipay-sdk against the sandbox: the bill
 * query (v3, signed both ways), the 30 s link, the zip of GBK CSV files read line by line into exact
 * fen (refunds and fees negative in the file, trailing tabs on the ids), the summary's 合计 agreeing;
 * and each of the sandbox's statement faults refused with its reason.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { CreateTradeRequest } from '@payments/core';
import { AlipayProvider, chinaDateTime } from '@payments/providers';
import { linesOf, statementSandbox } from '@payments/testkit';
import { SANDBOX_ALIPAY_PRIVATE_KEY, SANDBOX_APP_PUBLIC_KEY, sandboxAlipayEnv } from '../../src/keys';
import { buildAlipaySandbox } from '../../src/server';

describe('Alipay statement: the trade bill through alipay-sdk against the sandbox', () => {
  const alipay = statementSandbox({
    name: 'alipay',
    build: () =>
      buildAlipaySandbox({
        appId: '2021000000000001',
        appPublicKey: SANDBOX_APP_PUBLIC_KEY,
        alipayPrivateKey: SANDBOX_ALIPAY_PRIVATE_KEY,
        notifyTimeScale: 0.001,
      }),
    env: sandboxAlipayEnv,
    makeProvider: (config, kit) => new AlipayProvider(config, kit, ['alipay-qr', 'alipay-page']),
  });
  const { control, providerFaults, refusal } = alipay;
  const today = () => chinaDateTime(new Date()).slice(0, 10);
  let sequence = 0;
  const trade = (amount: number, subject: string): CreateTradeRequest => ({
    channelOrderNo: `co_als_${Date.now().toString(36)}_${(sequence += 1)}`,
    merchantOrderNo: `mo-als-${sequence}`,
    money: { amount, currency: 'CNY' },
    subject,
    expireAt: new Date(Date.now() + 15 * 60_000),
    notifyUrl: 'http://127.0.0.1:9/notify',
    requestedAt: new Date(),
  });
  const paid: CreateTradeRequest[] = [];

  beforeAll(async () => {
    await alipay.start();
    const qr = alipay.provider.channels.find((channel) => channel.name === 'alipay-qr')!;
    for (const request of [trade(1999, '蓝色茶壶'), trade(1, 'Tea, green'), trade(12345, '茶杯')]) {
      await qr.createTrade(request);
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
    expect(await qr.refund(refundOf(paid[0]!, 'rf_als_part', 500))).toBe('SUCCESS');
    expect(await qr.refund(refundOf(paid[2]!, 'rf_als_full', 12345))).toBe('SUCCESS');
  });
  afterEach(async () => {
    await control('DELETE', '/sandbox/faults');
  });
  afterAll(() => alipay.stop());

  it("reads the day's trades and refunds in exact fen, positive refund amounts, fees as charged, the 合计 agreeing", async () => {
    const statement = await alipay.provider.statements.fetchStatement(today());
    expect(statement).toMatchObject({ provider: 'alipay', date: today() });
    // A zip, spooled as downloaded (a file, never a Buffer held), with its SHA-256.
    expect(Buffer.isBuffer(statement.raw)).toBe(false);
    const raw = await readFile(statement.raw.path);
    expect(raw.length).toBe(statement.raw.byteLength);
    expect(raw.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    expect(statement.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    const lines = await linesOf(statement.lines());
    expect(lines).toHaveLength(5);
    const payment = (request: CreateTradeRequest) =>
      lines.find((line) => line.kind === 'PAYMENT' && line.channelOrderNo === request.channelOrderNo);
    // 0.6% rounded half up: 11.994 fen → 12; 0.006 → 0; 74.07 → 74. The trailing tabs are gone.
    expect(payment(paid[0]!)).toMatchObject({
      amount: 1999,
      currency: 'CNY',
      fee: 12,
      refundNo: null,
      providerTradeNo: expect.stringMatching(/^\d{8}22001\d{15}$/),
    });
    expect(payment(paid[1]!)).toMatchObject({ amount: 1, fee: 0 });
    expect(payment(paid[2]!)).toMatchObject({ amount: 12345, fee: 74 });
    const refund = (refundNo: string) => lines.find((line) => line.refundNo === refundNo);
    // Refunds: -5.00 in the file, 500 here; the fee returned, -0.03 here (+0.03 in the file).
    expect(refund('rf_als_part')).toMatchObject({
      kind: 'REFUND',
      channelOrderNo: paid[0]!.channelOrderNo,
      providerTradeNo: payment(paid[0]!)!.providerTradeNo,
      amount: 500,
      fee: -3,
    });
    expect(refund('rf_als_full')).toMatchObject({ kind: 'REFUND', amount: 12345, fee: -74 });
    for (const line of lines) {
      expect(line.exactFee).toBeUndefined();
      expect(Math.abs(line.at.getTime() - Date.now())).toBeLessThan(120_000);
    }
    expect(statement.summary).toEqual({
      lines: 5,
      totals: { CNY: { payments: 1999 + 1 + 12345, refunds: 500 + 12345, fees: 12 + 0 + 74 - 3 - 74 } },
    });
    // Disposed of, the spool is gone.
    await statement.dispose();
    expect(existsSync(statement.raw.path)).toBe(false);
  });

  it('asked before the bill is made (isp.bill_not_exist): NOT_READY', async () => {
    await providerFaults({ statementNotReady: true });
    expect(await refusal(today())).toBe('NOT_READY');
  });

  it('a zip cut short: UNREADABLE', async () => {
    await providerFaults({ statementTruncated: true });
    expect(await refusal(today())).toBe('UNREADABLE');
  });

  it("a zip whose bytes fail its CRC-32 (the bill's only hash): HASH_MISMATCH", async () => {
    await providerFaults({ statementWrongHash: true });
    expect(await refusal(today())).toBe('HASH_MISMATCH');
  });

  it('DELETE /sandbox/faults resets the bill faults too', async () => {
    await providerFaults({ statementNotReady: true });
    await control('DELETE', '/sandbox/faults');
    const statement = await alipay.provider.statements.fetchStatement(today());
    expect(statement).toMatchObject({ provider: 'alipay' });
    await statement.dispose();
  });
});
