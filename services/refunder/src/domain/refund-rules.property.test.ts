/**
 * Properties of the refunder's hard checks and risk control (issue 30.2), over every input: money
 * moves only for a success that is not the kept payment, for exactly its amount, with no other
 * refund open; and no automatic refund takes the day past its cap.
 */
import fc from 'fast-check';
import { ATTEMPT_STATUSES, PAY_ORDER_STATUSES, REFUND_REASONS, REFUND_STATUSES } from '@payments/core';
import { needsApproval, refundNoFor, refundProblem, type RefundCheckInput } from './refund-rules';

const input: fc.Arbitrary<RefundCheckInput> = fc
  .record({
    reason: fc.constantFrom(...REFUND_REASONS),
    attemptNo: fc.constantFrom('co_a', 'co_b'),
    status: fc.constantFrom(...ATTEMPT_STATUSES),
    amount: fc.integer({ min: 1, max: 10_000 }),
    currency: fc.constantFrom('CNY', 'BRL'),
    orderStatus: fc.constantFrom(...PAY_ORDER_STATUSES),
    kept: fc.constantFrom('co_a', 'co_b', null),
    // The refund asked is mostly the attempt's own amount (the real case), sometimes another.
    sameAmount: fc.boolean(),
    otherAmount: fc.integer({ min: 1, max: 10_000 }),
    refundCurrency: fc.constantFrom('CNY', 'BRL'),
    others: fc.array(fc.constantFrom(...REFUND_STATUSES), { maxLength: 3 }),
  })
  .map((v) => ({
    reason: v.reason,
    attempt: { channelOrderNo: v.attemptNo, status: v.status, amount: v.amount, currency: v.currency },
    payOrder: { status: v.orderStatus, paidChannelOrderNo: v.kept },
    refund: { amount: v.sameAmount ? v.amount : v.otherAmount, currency: v.refundCurrency },
    otherRefunds: v.others.map((status, n) => ({ refundNo: `rf_${n}`, status })),
  }));

/** The rule, said once more in its own words: when money may move. */
const mayMove = (i: RefundCheckInput) =>
  i.attempt.status === 'SUCCESS' &&
  i.payOrder.paidChannelOrderNo !== i.attempt.channelOrderNo &&
  i.refund.amount === i.attempt.amount &&
  i.refund.currency === i.attempt.currency &&
  (i.reason !== 'DUPLICATE_PAYMENT' || i.payOrder.status === 'PAID') &&
  (i.reason !== 'PAID_AFTER_CLOSE' || i.payOrder.status === 'CLOSED') &&
  i.otherRefunds.every((other) => other.status === 'FAILED');

describe('the refund hard checks (property)', () => {
  it('let a refund go exactly when it returns an extra success whole, beside no open refund', () => {
    fc.assert(
      fc.property(input, (i) => (refundProblem(i) === undefined) === mayMove(i)),
      { numRuns: 5000 },
    );
  });

  it('never refund the kept payment, whatever else holds', () => {
    fc.assert(
      fc.property(input, (i) =>
        i.payOrder.paidChannelOrderNo === i.attempt.channelOrderNo ? refundProblem(i) !== undefined : true,
      ),
      { numRuns: 5000 },
    );
  });

  it('one refund number per attempt and reason: asking again never makes a second refund', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^co_[0-9a-z]{8,24}$/),
        fc.constantFrom(...REFUND_REASONS),
        fc.constantFrom(...REFUND_REASONS),
        (attempt, a, b) => (refundNoFor(attempt, a) === refundNoFor(attempt, b)) === (a === b),
      ),
    );
  });

  it('risk control: an automatic refund never takes the day past its cap, nor goes out above the single limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50_000 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 500_000 }),
        (amounts, autoMaxAmount, dailyCap) => {
          let automaticToday = 0;
          for (const amount of amounts) {
            if (needsApproval(amount, { autoMaxAmount, dailyCap, automaticToday })) continue;
            if (amount > autoMaxAmount) return false;
            automaticToday += amount;
            if (automaticToday > dailyCap) return false;
          }
          return true;
        },
      ),
    );
  });

  it('the check bites: a rule that forgets the kept payment is caught', () => {
    const forgetful = (i: RefundCheckInput) =>
      refundProblem({ ...i, payOrder: { ...i.payOrder, paidChannelOrderNo: null } });
    const result = fc.check(
      fc.property(input, (i) =>
        i.payOrder.paidChannelOrderNo === i.attempt.channelOrderNo ? forgetful(i) !== undefined : true,
      ),
      { numRuns: 5000 },
    );
    expect(result.failed).toBe(true);
  });
});
