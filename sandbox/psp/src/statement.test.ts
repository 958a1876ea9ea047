import { createHash } from 'node:crypto';
import { buildStatement, feeOf } from './statement';
import type { Refund, Trade } from './state';

const trade = (no: string, paidAt: number | null, state: Trade['state'] = 'PAID'): Trade => ({
  channelOrderNo: no,
  tradeNo: `sbx_${no}`,
  merchantOrderNo: `mo_${no}`,
  channel: 'sandbox-wallet',
  amount: 1250,
  currency: 'CNY',
  subject: 'Teapot',
  expireAt: Date.parse('2026-12-03T00:00:00Z'),
  notifyUrl: 'http://127.0.0.1/notify',
  payPath: `/pay/${no}`,
  state,
  paidAt,
});

describe("the sandbox PSP's statement of a day", () => {
  const day = Date.parse('2026-12-02T12:00:00Z');
  const trades = [
    trade('co_a', day),
    trade('co_late', Date.parse('2026-12-02T23:59:59.999Z')),
    trade('co_next', Date.parse('2026-12-03T00:00:00Z')),
    trade('co_waiting', null, 'WAITING'),
  ];
  const refunds: Refund[] = [
    { refundNo: 'rf_1', channelOrderNo: 'co_a', amount: 250, status: 'SUCCESS', createdAt: day + 1000 },
    { refundNo: 'rf_2', channelOrderNo: 'co_a', amount: 100, status: 'PROCESSING', createdAt: day + 2000 },
  ];
  const byNo = new Map(trades.map((t) => [t.channelOrderNo, t]));
  const statement = buildStatement('2026-12-02', trades, refunds, (no) => byNo.get(no));
  const lines = statement.body
    .trim()
    .split('\n')
    .map((text) => JSON.parse(text) as Record<string, unknown>);

  it("has the day's paid trades (UTC) and SUCCESS refunds, then a summary that adds them up", () => {
    expect(lines.map((line) => line.channelOrderNo ?? line.type)).toEqual([
      'co_a',
      'co_a',
      'co_late',
      'summary',
    ]);
    expect(lines[1]).toMatchObject({
      type: 'refund',
      refundNo: 'rf_1',
      tradeNo: 'sbx_co_a',
      amount: 250,
      fee: 0,
    });
    expect(lines[3]).toEqual({
      type: 'summary',
      date: '2026-12-02',
      lines: 3,
      totals: { CNY: { payments: 2500, refunds: 250, fees: 2 * feeOf(1250) } },
    });
  });
  it('names its SHA-256', () => {
    expect(statement.sha256).toBe(createHash('sha256').update(statement.body).digest('hex'));
  });
  it('keeps 0.6% of a payment as its fee, rounded down', () => {
    expect(feeOf(1250)).toBe(7);
    expect(feeOf(100)).toBe(0);
  });
});
