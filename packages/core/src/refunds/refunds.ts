import type { DataSource, EntityManager } from 'typeorm';
import type { EventType, RefundReason, RefundStatus } from '../contracts';
import { affectedRows } from '@payments/platform';
import { appendToOutbox, newEvent } from '../outbox/append';

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
  settled_manually_by?: string | null;
  settled_manually_at?: Date | null;
  manual_reference?: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What every refund event says of its refund. */
export function refundEventData(refund: RefundRow, payOrderNo: string) {
  return {
    payOrderNo,
    merchantOrderNo: refund.merchant_order_no,
    refundNo: refund.refund_no,
    channelOrderNo: refund.channel_order_no,
    reason: refund.reason,
    amount: Number(refund.amount),
    currency: refund.currency,
  };
}

/** Writes a refund event for `refund` in the caller's transaction. */
export async function appendRefundEvent(
  manager: EntityManager,
  type: Extract<
    EventType,
    'refund.requested' | 'refund.succeeded' | 'refund.failed' | 'refund.manual_required'
  >,
  refund: RefundRow,
  extra: { error?: string; why?: string } = {},
): Promise<void> {
  const [order] = await manager.query('SELECT pay_order_no FROM pay_order WHERE id = ?', [
    refund.pay_order_id,
  ]);
  const data = refundEventData(refund, order.pay_order_no as string);
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
    case 'refund.manual_required':
      await appendToOutbox(manager, [newEvent(type, { ...data, why: extra.why ?? 'owed by hand' })]);
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
 * second changes nothing (false), so a refund is settled once. A provider's SUCCESS also ends a
 * refund it had held for a person (MANUAL_REQUIRED: WeChat Pay's `ABNORMAL`, once the merchant
 * had it paid out through the provider).
 */
export async function finishRefund(
  dataSource: DataSource,
  refund: RefundRow,
  status: 'SUCCESS' | 'FAILED',
  error?: string,
): Promise<boolean> {
  return dataSource.transaction(async (manager) => {
    const updated = await manager.query(
      `UPDATE refund_order SET status = ?, last_error = ?, finished_at = NOW(3)
        WHERE id = ? AND (status = 'PROCESSING' OR (? = 'SUCCESS' AND status = 'MANUAL_REQUIRED'))`,
      [status, error?.slice(0, 512) ?? null, refund.id, status],
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

/** Who an operator command names (`--by`), trimmed; refused if empty or longer than 64. */
function operatorName(by: string, what: string): string {
  const who = by.trim();
  if (who.length === 0 || who.length > 64) throw new Error(`${what} (--by) must be 1-64 characters`);
  return who;
}

/**
 * An operator's move of one refund from `from` (locked, then compared-and-set) with the columns
 * `set` writes, and its event, in one transaction. Throws when the refund is unknown or not `from`.
 */
async function moveRefund(
  dataSource: DataSource,
  refundNo: string,
  change: {
    from: RefundStatus;
    to: RefundStatus;
    set: string;
    params: unknown[];
    doing: string;
    event: 'refund.requested' | 'refund.succeeded';
    row: Partial<RefundRow>;
  },
): Promise<RefundRow> {
  return dataSource.transaction(async (manager) => {
    const [refund] = (await manager.query('SELECT * FROM refund_order WHERE refund_no = ? FOR UPDATE', [
      refundNo,
    ])) as RefundRow[];
    if (!refund) throw new Error(`no refund ${refundNo}`);
    if (refund.status !== change.from)
      throw new Error(`refund ${refundNo} is ${refund.status}, not ${change.from}`);
    const updated = await manager.query(
      `UPDATE refund_order SET status = ?, ${change.set} WHERE id = ? AND status = ?`,
      [change.to, ...change.params, refund.id, change.from],
    );
    if (affectedRows(updated) !== 1) throw new Error(`refund ${refundNo} changed while ${change.doing}`);
    const moved = { ...refund, ...change.row, status: change.to };
    await appendRefundEvent(manager, change.event, moved);
    return moved;
  });
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
  const by = operatorName(approvedBy, 'the approver');
  return moveRefund(dataSource, refundNo, {
    from: 'PENDING_APPROVAL',
    to: 'PROCESSING',
    set: 'approved_at = NOW(3), approved_by = ?',
    params: [by],
    doing: 'approving',
    event: 'refund.requested',
    row: { approved_by: by },
  });
}

/**
 * A PROCESSING refund that a person must finish: its provider cannot make it (the channel is not
 * `refundable`), holds the money until the merchant acts (WeChat Pay `ABNORMAL`), or never
 * confirmed it through every send of the refund schedule. `MANUAL_REQUIRED`, with `why` (what a
 * person must do) and its `refund.manual_required` event in the same transaction; nothing more is
 * ever sent to the provider for it, unless a person asks (`retryManualRefund`). False if it was
 * not PROCESSING (another worker, or an operator, got there first).
 */
export async function requireManualRefund(
  dataSource: DataSource,
  refund: RefundRow,
  why: string,
): Promise<boolean> {
  return dataSource.transaction(async (manager) => {
    const updated = await manager.query(
      "UPDATE refund_order SET status = 'MANUAL_REQUIRED', last_error = ? WHERE id = ? AND status = 'PROCESSING'",
      [why.slice(0, 512), refund.id],
    );
    if (affectedRows(updated) !== 1) return false;
    await appendRefundEvent(
      manager,
      'refund.manual_required',
      { ...refund, status: 'MANUAL_REQUIRED' },
      { why },
    );
    return true;
  });
}

/**
 * `payctl refund retry`: a person asks for a refund owed by hand to be sent to its provider again,
 * with the same refund number (the provider's idempotency key: a refund it made already is
 * answered, not made twice). PROCESSING again, with a `refund.requested` event for the refunder.
 */
export async function retryManualRefund(
  dataSource: DataSource,
  refundNo: string,
  by: string,
): Promise<RefundRow> {
  const who = operatorName(by, 'who retries it');
  return moveRefund(dataSource, refundNo, {
    from: 'MANUAL_REQUIRED',
    to: 'PROCESSING',
    set: 'last_error = ?',
    params: [`sent again by ${who}`],
    doing: 'retrying',
    event: 'refund.requested',
    row: {},
  });
}

/**
 * `payctl refund settle-manually`: a MANUAL_REQUIRED refund was paid back outside the provider.
 * It becomes SUCCESS with who recorded it, when, and their reference (a bank transfer's id), and
 * its `refund.succeeded` event. Throws if it is not MANUAL_REQUIRED or the input is bad.
 */
export async function settleRefundManually(
  dataSource: DataSource,
  refundNo: string,
  settledBy: string,
  reference: string,
): Promise<RefundRow> {
  const by = operatorName(settledBy, 'who settled it');
  const ref = reference.trim();
  if (ref.length === 0 || ref.length > 255)
    throw new Error('the reference (--reference) must be 1-255 characters');
  return moveRefund(dataSource, refundNo, {
    from: 'MANUAL_REQUIRED',
    to: 'SUCCESS',
    set: 'settled_manually_by = ?, settled_manually_at = NOW(3), manual_reference = ?, finished_at = NOW(3), last_error = NULL',
    params: [by, ref],
    doing: 'settling',
    event: 'refund.succeeded',
    row: { settled_manually_by: by, manual_reference: ref },
  });
}
