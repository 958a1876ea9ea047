import { needsApproval, refundNoFor, refundProblem, type RefundCheckInput } from './refund-rules';

const input = (overrides: Partial<RefundCheckInput> = {}): RefundCheckInput => ({
  reason: 'DUPLICATE_PAYMENT',
  attempt: { channelOrderNo: 'co_b', status: 'SUCCESS', amount: 500, currency: 'CNY' },
  payOrder: { status: 'PAID', paidChannelOrderNo: 'co_a' },
  refund: { amount: 500, currency: 'CNY' },
  otherRefunds: [],
  ...overrides,
});

describe('refund rules', () => {
  it('derives one refund number per attempt and reason', () => {
    expect(refundNoFor('co_b', 'DUPLICATE_PAYMENT')).toBe('rf_co_b_dup');
    expect(refundNoFor('co_b', 'PAID_AFTER_CLOSE')).toBe('rf_co_b_pac');
    expect(refundNoFor('co_b', 'DUPLICATE_PAYMENT')).toBe(refundNoFor('co_b', 'DUPLICATE_PAYMENT'));
  });

  it('lets a real extra charge be refunded', () => {
    expect(refundProblem(input())).toBeUndefined();
    expect(
      refundProblem(
        input({ reason: 'PAID_AFTER_CLOSE', payOrder: { status: 'CLOSED', paidChannelOrderNo: null } }),
      ),
    ).toBeUndefined();
    expect(
      refundProblem(input({ otherRefunds: [{ refundNo: 'rf_old', status: 'FAILED' }] })),
    ).toBeUndefined();
  });

  it('never refunds the payment that counts', () => {
    expect(refundProblem(input({ payOrder: { status: 'PAID', paidChannelOrderNo: 'co_b' } }))).toMatch(
      /the order's payment/,
    );
  });

  it('refuses an attempt that is not a success, another amount, or a second open refund', () => {
    expect(
      refundProblem(
        input({ attempt: { channelOrderNo: 'co_b', status: 'PAYING', amount: 500, currency: 'CNY' } }),
      ),
    ).toMatch(/not SUCCESS/);
    expect(refundProblem(input({ refund: { amount: 499, currency: 'CNY' } }))).toMatch(/differs/);
    expect(refundProblem(input({ refund: { amount: 500, currency: 'USD' } }))).toMatch(/differs/);
    expect(refundProblem(input({ otherRefunds: [{ refundNo: 'rf_x', status: 'PROCESSING' }] }))).toMatch(
      /already has refund rf_x/,
    );
  });

  it('refuses a reason that does not match the order', () => {
    expect(refundProblem(input({ payOrder: { status: 'CLOSED', paidChannelOrderNo: null } }))).toMatch(
      /needs a PAID order/,
    );
    expect(refundProblem(input({ reason: 'PAID_AFTER_CLOSE' }))).toMatch(/needs a CLOSED order/);
  });

  it('sends large refunds and those past the daily cap to approval', () => {
    const limits = { autoMaxAmount: 1000, dailyCap: 5000, automaticToday: 0 };
    expect(needsApproval(1000, limits)).toBe(false);
    expect(needsApproval(1001, limits)).toBe(true);
    expect(needsApproval(1000, { ...limits, automaticToday: 4000 })).toBe(false);
    expect(needsApproval(1000, { ...limits, automaticToday: 4001 })).toBe(true);
  });
});
