import { approveRefund as approve, type DataSource } from '@payments/common';

export async function listPendingRefunds(dataSource: DataSource, pendingOnly: boolean) {
  return dataSource.query(
    `SELECT refund_no AS refundNo, merchant_order_no AS merchantOrderNo, channel_order_no AS channelOrderNo, reason, amount, currency, status, created_at AS createdAt
       FROM refund_order ${pendingOnly ? "WHERE status = 'PENDING_APPROVAL'" : ''} ORDER BY id DESC LIMIT 500`,
  );
}

/** The refunder sends it once any service's outbox relay publishes the `refund.requested` event. */
export async function approveRefund(dataSource: DataSource, refundNo: string, by: string): Promise<string> {
  const refund = await approve(dataSource, refundNo, by);
  return `approved ${refund.refund_no} by ${refund.approved_by}: ${refund.amount} ${refund.currency} back for ${refund.channel_order_no}`;
}
