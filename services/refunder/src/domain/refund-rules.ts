import type { AttemptStatus, PayOrderStatus, RefundReason, RefundStatus } from '@payments/core';

const REASON_CODE: Record<RefundReason, string> = {
  DUPLICATE_PAYMENT: 'dup',
  PAID_AFTER_CLOSE: 'pac',
  MANUAL: 'man',
};

/** The provider's idempotency key: one refund per attempt and reason, whoever asks and however often. */
export function refundNoFor(channelOrderNo: string, reason: RefundReason): string {
  return `rf_${channelOrderNo}_${REASON_CODE[reason]}`;
}

export interface RefundCheckInput {
  reason: RefundReason;
  attempt: { channelOrderNo: string; status: AttemptStatus; amount: number; currency: string };
  payOrder: { status: PayOrderStatus; paidChannelOrderNo: string | null };
  refund: { amount: number; currency: string };
  /** The attempt's other refunds (any reason), with their status. */
  otherRefunds: { refundNo: string; status: RefundStatus }[];
}

/**
 * The hard checks before any money moves (DESIGN rule 6): never the payment that counts, only a
 * success, exactly its amount, and never beside another refund still open. Returns the problem,
 * or undefined when the refund may go.
 */
export function refundProblem(input: RefundCheckInput): string | undefined {
  const { attempt, payOrder, refund, reason } = input;
  if (attempt.status !== 'SUCCESS')
    return `attempt ${attempt.channelOrderNo} is ${attempt.status}, not SUCCESS`;
  if (payOrder.paidChannelOrderNo === attempt.channelOrderNo)
    return `attempt ${attempt.channelOrderNo} is the order's payment`;
  if (refund.amount !== attempt.amount || refund.currency !== attempt.currency) {
    return `refund ${refund.amount} ${refund.currency} differs from the attempt's ${attempt.amount} ${attempt.currency}`;
  }
  if (reason === 'DUPLICATE_PAYMENT' && payOrder.status !== 'PAID')
    return `a duplicate needs a PAID order, this one is ${payOrder.status}`;
  if (reason === 'PAID_AFTER_CLOSE' && payOrder.status !== 'CLOSED')
    return `paid after close needs a CLOSED order, this one is ${payOrder.status}`;
  const open = input.otherRefunds.find((other) => other.status !== 'FAILED');
  if (open) return `attempt ${attempt.channelOrderNo} already has refund ${open.refundNo} (${open.status})`;
  return undefined;
}

/** Risk control: large refunds, and automatic refunds past the day's cap, wait for a person. */
export function needsApproval(
  amount: number,
  limits: { autoMaxAmount: number; dailyCap: number; automaticToday: number },
): boolean {
  return amount > limits.autoMaxAmount || limits.automaticToday + amount > limits.dailyCap;
}
