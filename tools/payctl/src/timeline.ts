import type { DataSource } from '@payments/platform';

export interface TimelineEntry {
  at: string;
  what: string;
  detail: string;
}

const iso = (value: Date | string | null) => (value ? new Date(value).toISOString() : '');

/**
 * Outcomes of notifications that failed verification (the gateway's receive-callback): anybody's
 * bytes, under an order number the sender chose. Kept out of an order's timeline; rows written
 * since issue 27.9 name no order at all, this keeps out the ones written before.
 */
const UNVERIFIED_OUTCOMES = ['BAD_SIGNATURE', 'VALIDATION_FAILED', 'UNKNOWN_CHANNEL'];

/** Attempts, callbacks, settlement, notifications and refunds of one order, in time order. */
export async function paymentTimeline(
  dataSource: DataSource,
  merchantOrderNo: string,
): Promise<TimelineEntry[]> {
  const [order] = await dataSource.query('SELECT * FROM pay_order WHERE merchant_order_no = ?', [
    merchantOrderNo,
  ]);
  if (!order) throw new Error(`no payment for order ${merchantOrderNo}`);
  const entries: TimelineEntry[] = [
    {
      at: iso(order.created_at),
      what: 'applied',
      detail: `${order.pay_order_no} ${order.amount} ${order.currency}, expires ${iso(order.expire_at)}`,
    },
  ];
  const attempts = await dataSource.query('SELECT * FROM channel_order WHERE pay_order_id = ? ORDER BY id', [
    order.id,
  ]);
  for (const attempt of attempts) {
    entries.push({
      at: iso(attempt.created_at),
      what: 'attempt created',
      detail: `${attempt.channel_order_no} on ${attempt.channel}${attempt.provider_trade_no ? ` (provider reference ${attempt.provider_trade_no})` : ''}`,
    });
    if (attempt.settled_at) {
      entries.push({
        at: iso(attempt.settled_at),
        what: `attempt ${attempt.status}`,
        detail: `${attempt.channel_order_no}${attempt.failure_reason ? ` (${attempt.failure_reason})` : ''}`,
      });
    }
    if (attempt.needs_review)
      entries.push({
        at: iso(attempt.updated_at),
        what: 'needs review',
        detail: attempt.failure_reason ?? '',
      });
    const callbacks = await dataSource.query(
      'SELECT received_at, outcome, detail FROM callback_log WHERE channel_order_no = ? AND outcome NOT IN (?) ORDER BY id',
      [attempt.channel_order_no, UNVERIFIED_OUTCOMES],
    );
    for (const callback of callbacks) {
      entries.push({
        at: iso(callback.received_at),
        what: 'callback',
        detail: `${attempt.channel_order_no} → ${callback.outcome}${callback.detail ? ` (${callback.detail})` : ''}`,
      });
    }
  }
  if (order.paid_at)
    entries.push({ at: iso(order.paid_at), what: 'PAID', detail: `by ${order.paid_channel_order_no}` });
  // A payment that cannot be refunded kept in place of one that can (CONTRACT 9): the one kept
  // before had its settled_at set again in the same transaction (within a second), and is refunded as the duplicate.
  const kept = attempts.find(
    (attempt: { channel_order_no: string }) => attempt.channel_order_no === order.paid_channel_order_no,
  );
  if (kept && Number(kept.refundable) === 0)
    for (const before of attempts)
      if (
        before !== kept &&
        before.status === 'SUCCESS' &&
        Number(before.refundable) === 1 &&
        before.settled_at &&
        Math.abs(new Date(before.settled_at).getTime() - new Date(kept.settled_at).getTime()) < 1000
      )
        entries.push({
          at: iso(kept.settled_at),
          what: 'kept instead',
          detail: `${kept.channel_order_no} kept in place of ${before.channel_order_no} (it cannot be refunded; ${before.channel_order_no} is refunded)`,
        });
  if (order.closed_at) entries.push({ at: iso(order.closed_at), what: 'CLOSED', detail: '' });
  const notifications = await dataSource.query('SELECT * FROM notification_log WHERE merchant_order_no = ?', [
    merchantOrderNo,
  ]);
  for (const notification of notifications) {
    entries.push({
      at: iso(notification.delivered_at ?? notification.updated_at),
      what: `notification ${notification.status}`,
      detail: `event ${notification.event_id}, ${notification.attempts} call(s)${notification.last_error ? `, last error: ${notification.last_error}` : ''}`,
    });
  }
  const refunds = await dataSource.query('SELECT * FROM refund_order WHERE pay_order_id = ? ORDER BY id', [
    order.id,
  ]);
  for (const refund of refunds) {
    entries.push({
      at: iso(refund.created_at),
      what: 'refund requested',
      detail: `${refund.refund_no} ${refund.amount} for ${refund.channel_order_no} (${refund.reason})`,
    });
    if (refund.approved_at) {
      entries.push({
        at: iso(refund.approved_at),
        what: 'refund approved',
        detail: `${refund.refund_no} by ${refund.approved_by ?? 'unknown'}`,
      });
    }
    if (refund.status === 'MANUAL_REQUIRED') {
      entries.push({
        at: iso(refund.updated_at),
        what: 'refund owed by hand',
        detail: `${refund.refund_no}: ${refund.last_error ?? 'the provider cannot refund it; pay it back, then payctl refund settle-manually'} (${refund.refund_no})`,
      });
    } else if (refund.settled_manually_at) {
      entries.push({
        at: iso(refund.settled_manually_at),
        what: 'refund settled manually',
        detail: `${refund.refund_no} by ${refund.settled_manually_by}, reference ${refund.manual_reference}`,
      });
    } else if (refund.status !== 'PROCESSING' && refund.status !== 'PENDING_APPROVAL') {
      entries.push({
        at: iso(refund.finished_at ?? refund.updated_at),
        what: `refund ${refund.status}`,
        detail: `${refund.refund_no}${refund.last_error ? ` (${refund.last_error})` : ''}`,
      });
    } else if (refund.status === 'PENDING_APPROVAL') {
      entries.push({
        at: iso(refund.updated_at),
        what: 'refund waits approval',
        detail: `payctl refund approve ${refund.refund_no}`,
      });
    }
  }
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}
