import type { AttemptRow, PayAction, PayOrderRow } from '@payments/core';
import type { RefundRow } from '../adapters/payment-repository';
import type { ApplyAnswerBody, PaymentViewBody } from '../http/api-schemas';

const iso = (value: Date | string | null) => (value ? new Date(value).toISOString() : null);

/** CONTRACT 9 `payAction`, from the stored kind and target; null until the provider confirmed the create. */
export function payActionOf(attempt: Pick<AttemptRow, 'pay_url' | 'pay_action_type'>): PayAction | null {
  if (attempt.pay_url === null) return null;
  return attempt.pay_action_type === 'qr'
    ? { type: 'qr', content: attempt.pay_url }
    : { type: 'redirect', url: attempt.pay_url };
}

/** The body of a successful apply (CONTRACT 3). */
export function applyBody(payOrder: PayOrderRow, attempt: AttemptRow, reused: boolean): ApplyAnswerBody {
  return {
    payOrderNo: payOrder.pay_order_no,
    merchantOrderNo: payOrder.merchant_order_no,
    status: payOrder.status,
    attempt: {
      channelOrderNo: attempt.channel_order_no,
      channel: attempt.channel,
      status: attempt.status,
      payUrl: attempt.pay_url,
      payAction: payActionOf(attempt),
      expireAt: iso(attempt.expire_at),
    },
    reused,
  };
}

/** The body of `GET /v1/payments/:merchantOrderNo` (CONTRACT 3). */
export function paymentBody(
  payOrder: PayOrderRow & { paid_at?: Date | null },
  attempts: (AttemptRow & { updated_at?: Date })[],
  refunds: RefundRow[],
): PaymentViewBody {
  return {
    payOrderNo: payOrder.pay_order_no,
    merchantOrderNo: payOrder.merchant_order_no,
    amount: Number(payOrder.amount),
    currency: payOrder.currency,
    status: payOrder.status,
    paidChannelOrderNo: payOrder.paid_channel_order_no,
    paidAt: iso(payOrder.paid_at ?? null),
    expireAt: iso(payOrder.expire_at),
    attempts: attempts.map((attempt) => ({
      channelOrderNo: attempt.channel_order_no,
      channel: attempt.channel,
      status: attempt.status,
      amount: Number(attempt.amount),
      payUrl: attempt.pay_url,
      payAction: payActionOf(attempt),
      providerTradeNo: attempt.provider_trade_no ?? null,
      createdAt: iso(attempt.created_at),
      updatedAt: iso(attempt.updated_at ?? attempt.created_at),
    })),
    refunds: refunds.map((refund) => ({
      refundNo: refund.refund_no,
      channelOrderNo: refund.channel_order_no,
      reason: refund.reason,
      amount: Number(refund.amount),
      status: refund.status,
      /** Paid back outside the provider (CONTRACT 9), recorded by an operator. */
      settledManually: refund.settled_manually_at
        ? {
            by: refund.settled_manually_by,
            at: iso(refund.settled_manually_at),
            reference: refund.manual_reference,
          }
        : null,
    })),
  };
}
