import {
  BridgeBuilder,
  classifyPaymentLine,
  classifyRefundLine,
  differenceId,
  ExactDecimalSum,
  StatementTally,
  summaryDisagreements,
  verdictOf,
  type OurAttempt,
  type OurRefund,
} from './classify';
import { billDateOf, dayBounds, previousDay } from './bill-days';
import type { StatementLine } from './statement';

const payment = (overrides: Partial<StatementLine> = {}): StatementLine => ({
  kind: 'PAYMENT',
  providerTradeNo: 'sbx_1',
  channelOrderNo: 'co_1',
  refundNo: null,
  providerRefundNo: null,
  amount: 1000,
  currency: 'CNY',
  fee: 6,
  at: new Date('2026-12-02T10:00:00Z'),
  source: 'line 1',
  ...overrides,
});
const refundLine = (overrides: Partial<StatementLine> = {}): StatementLine =>
  payment({ kind: 'REFUND', refundNo: 'rf_1', fee: 0, amount: 400, ...overrides });
const attempt = (overrides: Partial<OurAttempt> = {}): OurAttempt => ({
  channelOrderNo: 'co_1',
  channel: 'sandbox-wallet',
  status: 'SUCCESS',
  amount: 1000,
  currency: 'CNY',
  providerTradeNo: null,
  ...overrides,
});
const ourRefund = (overrides: Partial<OurRefund> = {}): OurRefund => ({
  refundNo: 'rf_1',
  channelOrderNo: 'co_1',
  status: 'SUCCESS',
  amount: 400,
  currency: 'CNY',
  ...overrides,
});

describe('classifyPaymentLine', () => {
  it('matches a SUCCESS attempt of the same amount and currency', () => {
    expect(classifyPaymentLine(payment(), attempt())).toEqual({ kind: 'MATCHED' });
  });
  it.each(['PAYING', 'CLOSED', 'FAILED'] as const)('paid there, %s here: to settle', (status) => {
    expect(classifyPaymentLine(payment(), attempt({ status })).kind).toBe('PAID_THERE_NOT_HERE');
  });
  it('a trade we never created is an anomaly, named by whatever number the line has', () => {
    expect(classifyPaymentLine(payment({ channelOrderNo: null }), undefined)).toMatchObject({
      kind: 'UNKNOWN_TRADE',
      reference: 'sbx_1',
    });
  });
  it('an amount or a currency that differs is an anomaly, even when the attempt is not SUCCESS (never settled)', () => {
    expect(classifyPaymentLine(payment({ amount: 999 }), attempt({ status: 'PAYING' })).kind).toBe(
      'AMOUNT_MISMATCH',
    );
    expect(classifyPaymentLine(payment({ currency: 'USD' }), attempt()).kind).toBe('CURRENCY_MISMATCH');
  });
});

describe('classifyRefundLine', () => {
  it('matches our SUCCESS refund', () => {
    expect(classifyRefundLine(refundLine(), ourRefund(), attempt())).toEqual({ kind: 'MATCHED' });
  });
  it.each(['PROCESSING', 'MANUAL_REQUIRED', 'PENDING_APPROVAL'] as const)(
    'our refund %s here: to confirm and finish',
    (status) => {
      expect(classifyRefundLine(refundLine(), ourRefund({ status }), attempt()).kind).toBe(
        'REFUND_NOT_SUCCESS_HERE',
      );
    },
  );
  it('a refund we never asked for on a trade of ours: made outside (the portal)', () => {
    expect(classifyRefundLine(refundLine({ refundNo: 'portal_9' }), undefined, attempt())).toMatchObject({
      kind: 'REFUND_MADE_OUTSIDE',
      reference: 'portal_9',
    });
  });
  it('a refund on a trade we never created, or of another amount, is an anomaly', () => {
    expect(classifyRefundLine(refundLine(), undefined, undefined).kind).toBe('UNKNOWN_TRADE');
    expect(classifyRefundLine(refundLine({ amount: 401 }), ourRefund(), attempt()).kind).toBe(
      'REFUND_MISMATCH',
    );
  });
});

describe('summary, verdict, ids and bridge', () => {
  it('a statement whose lines add up to its summary has no disagreement; one line short has', () => {
    const tally = new StatementTally();
    tally.add(payment());
    tally.add(refundLine());
    const summary = { lines: 2, totals: { CNY: { payments: 1000, refunds: 400, fees: 6 } } };
    expect(summaryDisagreements(summary, tally)).toEqual([]);
    expect(summaryDisagreements({ ...summary, lines: 3 }, tally)).toEqual(['summary says 3 lines, 2 read']);
    expect(
      summaryDisagreements({ lines: 2, totals: { CNY: { payments: 2000, refunds: 400, fees: 6 } } }, tally),
    ).toEqual(['CNY payments: summary says 2000, 1000 read']);
  });
  it('fees written with five decimals are compared exactly when the summary and every line give them', () => {
    const tally = new StatementTally();
    tally.add(payment({ fee: 12, exactFee: '0.11994' }));
    tally.add(payment({ fee: 12, exactFee: '0.11994' }));
    // Rounded per line: 24; the summary's rounded total of 0.23988: 24 too, or 23 if it rounds otherwise.
    const totals = (exactFees: string, fees: number) => ({
      lines: 2,
      totals: { CNY: { payments: 2000, refunds: 0, fees, exactFees } },
    });
    expect(summaryDisagreements(totals('0.23988', 23), tally)).toEqual([]);
    expect(summaryDisagreements(totals('0.23989', 24), tally)).toHaveLength(1);
  });
  it('exact fee sums carry across the unit, in both signs, as the sum of every decimal at 10^-10', () => {
    const sum = new ExactDecimalSum();
    const texts = ['0.99999', '0.00001', '-1.5', '7.1234567891', '-0.0000000001', '123456789012.5'];
    for (let round = 0; round < 1000; round += 1) for (const text of texts) sum.add(text);
    // By hand: 0.99999 + 0.00001 - 1.5 + 7.1234567891 - 0.0000000001 + 123456789012.5 = 123456789019.123456789
    expect(sum.scaled).toBe(1_234_567_890_191_234_567_890n * 1000n);
    expect(() => sum.add('1.5e3')).toThrow('not a decimal');
    expect(() => sum.add('9999999999999999')).toThrow('not a decimal');
  });
  it('verdicts: breaks first, then pending', () => {
    expect(verdictOf({ breaks: 1, pending: 3 })).toBe('BREAKS');
    expect(verdictOf({ breaks: 0, pending: 1 })).toBe('RECONCILED_WITH_PENDING');
    expect(verdictOf({ breaks: 0, pending: 0 })).toBe('RECONCILED');
  });
  it('a difference keeps its id across runs, and two kinds of one reference have two', () => {
    expect(differenceId('sandbox', 'MISSING_THERE', 'co_1')).toBe(
      differenceId('sandbox', 'MISSING_THERE', 'co_1'),
    );
    expect(differenceId('sandbox', 'MISSING_THERE', 'co_1')).not.toBe(
      differenceId('sandbox', 'AMOUNT_MISMATCH', 'co_1'),
    );
    expect(differenceId('sandbox', 'MISSING_THERE', 'co_1')).toMatch(/^rd_[0-9a-f]{23}$/);
  });
  it('the bridge goes from the statement net through every explanation to a residual of 0', () => {
    const bridge = new BridgeBuilder({
      lines: 3,
      totals: { CNY: { payments: 3000, refunds: 400, fees: 18 } },
    });
    bridge.add(payment(), 'MATCHED');
    bridge.add(payment({ channelOrderNo: 'co_2' }), 'PAID_THERE_NOT_HERE');
    bridge.add(payment({ channelOrderNo: 'co_3' }), 'UNKNOWN_TRADE');
    bridge.add(refundLine({ refundNo: 'portal_1' }), 'REFUND_MADE_OUTSIDE');
    const [cny] = bridge.result();
    expect(cny).toMatchObject({
      statementNet: 2600,
      matched: 1000,
      explained: { PAID_THERE_NOT_HERE: 1000, UNKNOWN_TRADE: 1000, REFUND_MADE_OUTSIDE: -400 },
      residual: 0,
      fees: 18,
    });
  });
  it('a fee billed on its own counts in the fees only, and leaves the bridge of the trades as it was', () => {
    const fee = payment({ kind: 'FEE', providerTradeNo: null, channelOrderNo: null, amount: 0, fee: 500 });
    const tally = new StatementTally();
    tally.add(payment());
    tally.add(fee);
    expect(tally.totals.CNY).toEqual({ payments: 1000, refunds: 0, fees: 506 });
    // Stripe's statement has no summary: the bridge starts from what the lines add up to.
    const bridge = new BridgeBuilder({ lines: tally.lines, totals: tally.totals });
    bridge.add(payment(), 'MATCHED');
    bridge.add(fee, 'MATCHED');
    expect(bridge.result()).toEqual([
      expect.objectContaining({ statementNet: 1000, matched: 1000, fees: 506, residual: 0 }),
    ]);
  });
  it('without a summary, the bridge takes what the lines add up to once all are read (tallied as they are matched)', () => {
    const tally = new StatementTally();
    const bridge = new BridgeBuilder(() => ({ lines: tally.lines, totals: tally.totals }));
    for (const line of [payment(), payment({ amount: 250 })]) {
      tally.add(line);
      bridge.add(line, 'MATCHED');
    }
    expect(bridge.result()).toEqual([
      expect.objectContaining({ statementPayments: 1250, statementNet: 1250, matched: 1250, residual: 0 }),
    ]);
  });
  it('a line left out of the bridge shows as a residual', () => {
    const bridge = new BridgeBuilder({ lines: 2, totals: { CNY: { payments: 2000, refunds: 0, fees: 12 } } });
    bridge.add(payment(), 'MATCHED');
    expect(bridge.result()[0]!.residual).toBe(1000);
  });
  it('bill dates are days of the provider zone', () => {
    expect(dayBounds('2026-12-02', 'Asia/Shanghai')).toEqual({
      start: new Date('2026-12-01T16:00:00Z'),
      end: new Date('2026-12-02T16:00:00Z'),
    });
    expect(dayBounds('2026-12-02', 'UTC').start).toEqual(new Date('2026-12-02T00:00:00Z'));
    expect(billDateOf(new Date('2026-12-01T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-12-02');
    expect(previousDay('2026-03-01')).toBe('2026-02-28');
  });
});
