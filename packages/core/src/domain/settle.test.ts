import { decideSettlement, type AttemptState, type PayOrderState, type ProviderOutcome } from './settle';

const order = (
  status: PayOrderState['status'],
  paidChannelOrderNo: string | null = null,
  keptRefundable: boolean | null = paidChannelOrderNo === null ? null : true,
): PayOrderState => ({
  status,
  amount: 500,
  currency: 'CNY',
  paidChannelOrderNo,
  keptRefundable,
});
const attempt = (
  status: AttemptState['status'],
  channelOrderNo = 'co_a',
  refundable = true,
): AttemptState => ({
  channelOrderNo,
  status,
  amount: 500,
  currency: 'CNY',
  refundable,
});
const success: ProviderOutcome = { status: 'SUCCESS', amount: 500, currency: 'CNY', paidAt: new Date() };

describe('decideSettlement', () => {
  it.each(['UNPAID', 'PAYING'] as const)('a first success on a %s order pays it', (status) => {
    expect(decideSettlement(order(status), attempt('PAYING'), success)).toEqual({
      attemptTo: 'SUCCESS',
      payOrder: 'MARK_PAID',
      events: ['payment.succeeded'],
      kind: 'PAID',
    });
  });

  it('a second attempt succeeding on a PAID order is a duplicate', () => {
    expect(decideSettlement(order('PAID', 'co_a'), attempt('PAYING', 'co_b'), success)).toEqual({
      attemptTo: 'SUCCESS',
      payOrder: 'NONE',
      events: ['payment.duplicate_detected'],
      kind: 'DUPLICATE',
    });
  });

  it('a second success that cannot be refunded is kept instead of a kept one that can (CONTRACT 9)', () => {
    const voucher = attempt('PAYING', 'co_b', false);
    expect(decideSettlement(order('PAID', 'co_a', true), voucher, success)).toEqual({
      attemptTo: 'SUCCESS',
      payOrder: 'KEEP_INSTEAD',
      events: ['payment.kept_changed', 'payment.duplicate_detected'],
      kind: 'KEPT_INSTEAD',
    });
    // Both unrefundable: the first stays kept, the second is owed by hand as before.
    expect(decideSettlement(order('PAID', 'co_a', false), voucher, success).kind).toBe('DUPLICATE');
    // A refundable second success on an unrefundable kept one: an ordinary duplicate.
    expect(decideSettlement(order('PAID', 'co_a', false), attempt('PAYING', 'co_b'), success).kind).toBe(
      'DUPLICATE',
    );
    // Paid after the order closed: nothing refundable is given back instead.
    expect(decideSettlement(order('CLOSED'), voucher, success).kind).toBe('PAID_AFTER_CLOSE');
    // The kept voucher settled again changes nothing; nor does a repeat of the swap.
    expect(decideSettlement(order('PAID', 'co_b', false), voucher, success).kind).toBe('NO_CHANGE');
    expect(
      decideSettlement(order('PAID', 'co_b', false), attempt('SUCCESS', 'co_b', false), success).kind,
    ).toBe('NO_CHANGE');
    // Another amount is never kept.
    expect(decideSettlement(order('PAID', 'co_a'), voucher, { ...success, amount: 499 }).kind).toBe(
      'AMOUNT_MISMATCH',
    );
  });

  it('a success on a CLOSED order is paid after close', () => {
    expect(decideSettlement(order('CLOSED'), attempt('PAYING'), success)).toMatchObject({
      attemptTo: 'SUCCESS',
      events: ['payment.paid_after_close'],
      kind: 'PAID_AFTER_CLOSE',
    });
  });

  it('a repeated success changes nothing (the payment itself, or a known duplicate)', () => {
    expect(decideSettlement(order('PAID', 'co_a'), attempt('SUCCESS', 'co_a'), success).kind).toBe(
      'NO_CHANGE',
    );
    expect(decideSettlement(order('PAID', 'co_a'), attempt('SUCCESS', 'co_b'), success).events).toEqual([]);
    // Attempt row not yet SUCCESS but already the paid one (cannot normally happen): still no duplicate.
    expect(decideSettlement(order('PAID', 'co_a'), attempt('PAYING', 'co_a'), success).events).toEqual([]);
  });

  it('a success on an attempt we had closed or failed still counts: the money was taken', () => {
    for (const status of ['CLOSED', 'FAILED'] as const) {
      expect(decideSettlement(order('PAYING'), attempt(status), success).kind).toBe('PAID');
      expect(decideSettlement(order('PAID', 'co_x'), attempt(status), success).kind).toBe('DUPLICATE');
      expect(decideSettlement(order('CLOSED'), attempt(status), success).kind).toBe('PAID_AFTER_CLOSE');
    }
  });

  it('a success for another amount or currency never settles', () => {
    expect(decideSettlement(order('PAYING'), attempt('PAYING'), { ...success, amount: 499 })).toEqual({
      attemptTo: null,
      payOrder: 'NONE',
      events: [],
      kind: 'AMOUNT_MISMATCH',
    });
    expect(decideSettlement(order('PAYING'), attempt('PAYING'), { ...success, currency: 'USD' }).kind).toBe(
      'AMOUNT_MISMATCH',
    );
  });

  it('FAILED or CLOSED ends an in-flight attempt and may release the order', () => {
    expect(decideSettlement(order('PAYING'), attempt('PAYING'), { status: 'FAILED', reason: 'x' })).toEqual({
      attemptTo: 'FAILED',
      payOrder: 'RELEASE_IF_IDLE',
      events: [],
      kind: 'FAILED',
    });
    expect(decideSettlement(order('PAYING'), attempt('PAYING'), { status: 'CLOSED' })).toEqual({
      attemptTo: 'CLOSED',
      payOrder: 'RELEASE_IF_IDLE',
      events: ['channel_order.closed'],
      kind: 'CLOSED',
    });
  });

  it('a late FAILED or CLOSED never undoes a SUCCESS, and repeats change nothing', () => {
    expect(
      decideSettlement(order('PAID', 'co_a'), attempt('SUCCESS'), { status: 'FAILED', reason: 'late' }).kind,
    ).toBe('CONFLICT_IGNORED');
    expect(
      decideSettlement(order('PAID', 'co_a'), attempt('SUCCESS'), { status: 'CLOSED' }).attemptTo,
    ).toBeNull();
    expect(decideSettlement(order('PAYING'), attempt('CLOSED'), { status: 'CLOSED' }).kind).toBe('NO_CHANGE');
    expect(decideSettlement(order('PAYING'), attempt('FAILED'), { status: 'CLOSED' }).kind).toBe('NO_CHANGE');
  });

  it('still paying changes nothing', () => {
    expect(decideSettlement(order('PAYING'), attempt('PAYING'), { status: 'PAYING' }).kind).toBe('NO_CHANGE');
  });
});
