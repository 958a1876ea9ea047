import { type DataSource } from '@payments/platform';
import {
  approveRefund as approve,
  retryManualRefund,
  settleRefundManually as settleManually,
  type RefundStatus,
} from '@payments/core';

/** Refunds, newest first: all, or only those in one status (waiting for approval, owed by hand). */
export async function listRefunds(dataSource: DataSource, status?: RefundStatus) {
  return dataSource.query(
    `SELECT refund_no AS refundNo, merchant_order_no AS merchantOrderNo, channel_order_no AS channelOrderNo, channel,
            reason, amount, currency, status, last_error AS note, created_at AS createdAt
       FROM refund_order ${status ? 'WHERE status = ?' : ''} ORDER BY id DESC LIMIT 500`,
    status ? [status] : [],
  );
}

/** The refunder sends it once any service's outbox relay publishes the `refund.requested` event. */
export async function approveRefund(dataSource: DataSource, refundNo: string, by: string): Promise<string> {
  const refund = await approve(dataSource, refundNo, by);
  return `approved ${refund.refund_no} by ${refund.approved_by}: ${refund.amount} ${refund.currency} back for ${refund.channel_order_no}`;
}

/** Records a refund owed by hand as paid back outside the provider (who, when, their reference). */
export async function settleRefundManually(
  dataSource: DataSource,
  refundNo: string,
  by: string,
  reference: string,
): Promise<string> {
  const refund = await settleManually(dataSource, refundNo, by, reference);
  return `settled ${refund.refund_no} manually by ${refund.settled_manually_by} (reference ${refund.manual_reference}): ${refund.amount} ${refund.currency} paid back for ${refund.channel_order_no}`;
}

/** Sends a refund owed by hand to its provider again (same refund number: never a second refund). */
export async function retryRefund(dataSource: DataSource, refundNo: string, by: string): Promise<string> {
  const refund = await retryManualRefund(dataSource, refundNo, by);
  return `sent ${refund.refund_no} again (asked by ${by.trim()}): ${refund.amount} ${refund.currency} back for ${refund.channel_order_no}`;
}
