import type { DataSource, EntityManager } from 'typeorm';
import type { EventType, RefundReason, RefundStatus } from '../contracts';
import { affectedRows } from './data-source';
import { appendToOutbox, newEvent } from './outbox';

export interface RefundRow {
  id: number;
  refund_no: string;
  pay_order_id: number;
  merchant_order_no: string;
  channel_order_no: string;
  channel: string;
  reason: RefundReason;
  amount: number;
  currency: string;
  status: RefundStatus;
  last_error: string | null;
  approved_at: Date | null;
  approved_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Writes a refund event for `refund` in the caller's transaction. */
export async function appendRefundEvent(
  manager: EntityManager,
  type: Extract<EventType, 'refund.requested' | 'refund.succeeded' | 'refund.failed'>,
  refund: RefundRow,
  extra: { error?: string } = {},
): Promise<void> {
  const [order] = await manager.query('SELECT pay_order_no FROM pay_order WHERE id = ?', [
    refund.pay_order_id,
  ]);
  const data = {
    payOrderNo: order.pay_order_no as string,
    merchantOrderNo: refund.merchant_order_no,
    refundNo: refund.refund_no,
    channelOrderNo: refund.channel_order_no,
    reason: refund.reason,
    amount: Number(refund.amount),
    currency: refund.currency,
  };
  switch (type) {
    case 'refund.requested':
      await appendToOutbox(manager, [
        newEvent(type, {
          ...data,
          status: refund.status === 'PENDING_APPROVAL' ? 'PENDING_APPROVAL' : 'PROCESSING',
        }),
      ]);
      return;
    case 'refund.succeeded':
      await appendToOutbox(manager, [newEvent(type, data)]);
      return;
    case 'refund.failed':
      await appendToOutbox(manager, [newEvent(type, { ...data, error: extra.error ?? 'refund failed' })]);
      return;
    default: {
      const unknown: never = type;
      throw new Error(`unknown refund event ${String(unknown)}`);
    }
  }
}

/**
 * Ends a PROCESSING refund with its provider's final word, and its event, in one transaction.
 * Shared by the refunder's polling and the gateway's refund notifications: whichever comes
 * second changes nothing (false), so a refund is settled once.
 */
export async function finishRefund(
  dataSource: DataSource,
  refund: RefundRow,
  status: 'SUCCESS' | 'FAILED',
  error?: string,
): Promise<boolean> {
  return dataSource.transaction(async (manager) => {
    const updated = await manager.query(
      "UPDATE refund_order SET status = ?, last_error = ?, finished_at = NOW(3) WHERE id = ? AND status = 'PROCESSING'",
      [status, error?.slice(0, 512) ?? null, refund.id],
    );
    if (affectedRows(updated) !== 1) return false;
    await appendRefundEvent(
      manager,
      status === 'SUCCESS' ? 'refund.succeeded' : 'refund.failed',
      { ...refund, status },
      { error },
    );
    return true;
  });
}

/** One refund by its number (the provider's idempotency key), or undefined. */
export async function findRefund(dataSource: DataSource, refundNo: string): Promise<RefundRow | undefined> {
  const [row] = (await dataSource.query('SELECT * FROM refund_order WHERE refund_no = ?', [
    refundNo,
  ])) as RefundRow[];
  return row;
}

/**
 * `payctl refund approve`: a refund waiting for approval goes out (PROCESSING, with a
 * `refund.requested` event the refunder acts on). Throws if it is not waiting.
 */
export async function approveRefund(
  dataSource: DataSource,
  refundNo: string,
  approvedBy: string,
): Promise<RefundRow> {
  const by = approvedBy.trim();
  if (by.length === 0 || by.length > 64) throw new Error('the approver (--by) must be 1-64 characters');
  return dataSource.transaction(async (manager) => {
    const [refund] = (await manager.query('SELECT * FROM refund_order WHERE refund_no = ? FOR UPDATE', [
      refundNo,
    ])) as RefundRow[];
    if (!refund) throw new Error(`no refund ${refundNo}`);
    if (refund.status !== 'PENDING_APPROVAL')
      throw new Error(`refund ${refundNo} is ${refund.status}, not PENDING_APPROVAL`);
    const updated = await manager.query(
      "UPDATE refund_order SET status = 'PROCESSING', approved_at = NOW(3), approved_by = ? WHERE id = ? AND status = 'PENDING_APPROVAL'",
      [by, refund.id],
    );
    if (affectedRows(updated) !== 1) throw new Error(`refund ${refundNo} changed while approving`);
    const approved = { ...refund, status: 'PROCESSING' as const, approved_by: by };
    await appendRefundEvent(manager, 'refund.requested', approved);
    return approved;
  });
}
