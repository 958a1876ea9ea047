import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '../contracts';
import { decideSettlement, type ProviderOutcome, type Settlement } from '../domain/settle';
import { TransientError } from '../errors';
import { affectedRows } from './data-source';
import { appendToOutbox, newEvent } from './outbox';

export interface PayOrderRow {
  id: number;
  pay_order_no: string;
  merchant_order_no: string;
  amount: number;
  currency: string;
  status: 'UNPAID' | 'PAYING' | 'PAID' | 'CLOSED';
  paid_channel_order_no: string | null;
  expire_at: Date;
}

export interface AttemptRow {
  id: number;
  channel_order_no: string;
  pay_order_id: number;
  merchant_order_no: string;
  channel: string;
  amount: number;
  currency: string;
  status: 'PAYING' | 'SUCCESS' | 'FAILED' | 'CLOSED';
  pay_url: string | null;
  /** `qr` or `redirect` once created (the pay action's kind; `pay_url` holds its target). */
  pay_action_type: string | null;
  /** The provider's own reference, once known. */
  provider_trade_no: string | null;
  expire_at: Date;
  poll_count: number;
  /** 1 once the poller gave up on it and parked its message for a person. */
  needs_review: number;
  created_at: Date;
}

export interface SettleResult {
  settlement: Settlement;
  payOrder: PayOrderRow;
  attempt: AttemptRow;
  events: EventEnvelope[];
}

/** Locks the pay order row first, always: every writer takes locks in the same order. */
export async function lockPayOrder(manager: EntityManager, payOrderId: number): Promise<PayOrderRow> {
  const [row] = await manager.query('SELECT * FROM pay_order WHERE id = ? FOR UPDATE', [payOrderId]);
  return row as PayOrderRow;
}

function buildEvents(
  settlement: Settlement,
  payOrder: PayOrderRow,
  attempt: AttemptRow,
  paidAt: Date | null,
): EventEnvelope[] {
  const base = {
    payOrderNo: payOrder.pay_order_no,
    merchantOrderNo: payOrder.merchant_order_no,
    channelOrderNo: attempt.channel_order_no,
    channel: attempt.channel,
  };
  const money = { amount: Number(attempt.amount), currency: attempt.currency };
  return settlement.events.map((type) => {
    switch (type) {
      case 'payment.succeeded':
        return newEvent(type, { ...base, ...money, paidAt: (paidAt ?? new Date()).toISOString() });
      case 'payment.duplicate_detected':
        return newEvent(type, {
          ...base,
          ...money,
          paidChannelOrderNo: payOrder.paid_channel_order_no ?? '',
        });
      case 'payment.paid_after_close':
        return newEvent(type, { ...base, ...money });
      case 'channel_order.closed':
        return newEvent(type, base);
      default:
        throw new Error(`settlement does not emit ${type}`);
    }
  });
}

export interface SettleOptions {
  /** Written in the settlement's transaction too (the raw callback). */
  alsoWrite?: (manager: EntityManager, settlement: Settlement) => Promise<void>;
  /** The caller hands the result's events to `OutboxRelay.publishCommitted` once this returns. */
  publishAfterCommit?: boolean;
}

/**
 * Settles one attempt with what the provider said: the one path shared by callbacks, the poller
 * and closes. In one transaction: lock the pay order, decide (pure), apply with conditional
 * updates, write the events and whatever `alsoWrite` records beside them (the raw callback).
 * Returns undefined for an attempt we never created.
 */
export async function settleAttempt(
  dataSource: DataSource,
  channelOrderNo: string,
  outcome: ProviderOutcome,
  options: SettleOptions = {},
): Promise<SettleResult | undefined> {
  return dataSource.transaction(async (manager) => {
    // The pay order row first (every writer's lock order), found through the attempt in the
    // same round trip; the subquery itself takes no lock.
    const [payOrder] = (await manager.query(
      `SELECT * FROM pay_order
        WHERE id = (SELECT pay_order_id FROM channel_order WHERE channel_order_no = ?) FOR UPDATE`,
      [channelOrderNo],
    )) as PayOrderRow[];
    if (!payOrder) return undefined;
    const [attempt] = (await manager.query(
      'SELECT * FROM channel_order WHERE channel_order_no = ? FOR UPDATE',
      [channelOrderNo],
    )) as AttemptRow[];
    const settlement = decideSettlement(
      {
        status: payOrder.status,
        amount: Number(payOrder.amount),
        currency: payOrder.currency,
        paidChannelOrderNo: payOrder.paid_channel_order_no,
      },
      {
        channelOrderNo,
        status: attempt!.status,
        amount: Number(attempt!.amount),
        currency: attempt!.currency,
      },
      outcome,
    );
    const paidAt = outcome.status === 'SUCCESS' ? outcome.paidAt : null;
    if (outcome.providerTradeNo && attempt!.provider_trade_no === null) {
      await manager.query(
        'UPDATE channel_order SET provider_trade_no = ? WHERE id = ? AND provider_trade_no IS NULL',
        [outcome.providerTradeNo, attempt!.id],
      );
    }
    if (settlement.attemptTo) {
      const updated = await manager.query(
        `UPDATE channel_order SET status = ?, inflight_key = NULL, settled_at = NOW(3), failure_reason = ?
          WHERE id = ? AND status = ?`,
        [
          settlement.attemptTo,
          outcome.status === 'FAILED' ? outcome.reason.slice(0, 255) : null,
          attempt!.id,
          attempt!.status,
        ],
      );
      if (affectedRows(updated) !== 1)
        throw new TransientError(`attempt ${channelOrderNo} changed while settling`);
    }
    if (settlement.payOrder === 'MARK_PAID') {
      const updated = await manager.query(
        `UPDATE pay_order SET status = 'PAID', paid_channel_order_no = ?, paid_at = ?, version = version + 1
          WHERE id = ? AND status IN ('UNPAID', 'PAYING')`,
        [channelOrderNo, paidAt, payOrder.id],
      );
      if (affectedRows(updated) !== 1)
        throw new TransientError(`pay order ${payOrder.pay_order_no} changed while settling`);
    } else if (settlement.payOrder === 'RELEASE_IF_IDLE' && payOrder.status === 'PAYING') {
      // The status is checked here, under the row's lock, not in the WHERE: with few orders PAYING,
      // MariaDB would read through the (status, expire_at) index and lock other orders' entries.
      await manager.query(
        `UPDATE pay_order SET status = 'UNPAID', version = version + 1
          WHERE id = ? AND NOT EXISTS (SELECT 1 FROM channel_order WHERE pay_order_id = ? AND status = 'PAYING')`,
        [payOrder.id, payOrder.id],
      );
    }
    const paidOrder =
      settlement.payOrder === 'MARK_PAID' ? { ...payOrder, paid_channel_order_no: channelOrderNo } : payOrder;
    const events = buildEvents(settlement, paidOrder, attempt!, paidAt);
    await appendToOutbox(manager, events, { publishAfterCommit: options.publishAfterCommit });
    await options.alsoWrite?.(manager, settlement);
    return { settlement, payOrder: paidOrder, attempt: attempt!, events };
  });
}

/**
 * Closes a pay order that is still open (UNPAID or PAYING), with its `payment.closed` event.
 * `onlyIfIdle`: only when no attempt is in flight (expiry waits for the last answer of every
 * attempt, so a payment made at the last moment is settled as paid, not closed).
 */
export async function closePayOrder(
  dataSource: DataSource,
  payOrderId: number,
  reason: 'CANCELLED' | 'EXPIRED',
  options: { onlyIfIdle?: boolean } = {},
): Promise<boolean> {
  return dataSource.transaction(async (manager) => {
    const payOrder = await lockPayOrder(manager, payOrderId);
    if (!payOrder || (payOrder.status !== 'UNPAID' && payOrder.status !== 'PAYING')) return false;
    if (options.onlyIfIdle) {
      const [busy] = await manager.query(
        "SELECT COUNT(*) AS n FROM channel_order WHERE pay_order_id = ? AND status = 'PAYING'",
        [payOrderId],
      );
      if (Number(busy.n) > 0) return false;
    }
    await manager.query(
      "UPDATE pay_order SET status = 'CLOSED', closed_at = NOW(3), version = version + 1 WHERE id = ? AND status IN ('UNPAID', 'PAYING')",
      [payOrderId],
    );
    await appendToOutbox(manager, [
      newEvent('payment.closed', {
        payOrderNo: payOrder.pay_order_no,
        merchantOrderNo: payOrder.merchant_order_no,
        reason,
      }),
    ]);
    return true;
  });
}
