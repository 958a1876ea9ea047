import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '../contracts';
import { decideSettlement, type ProviderOutcome, type Settlement } from '../domain/settle';
import {
  batchedTransaction,
  isOneRowRequired,
  requireOneRowChanged,
  TransientError,
  type Statement,
} from '@payments/platform';
import { newEvent, outboxInsert } from '../outbox/append';
import { attemptState, type AttemptRow } from './attempt-row';

export type { AttemptRow } from './attempt-row';

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

export interface SettleResult {
  settlement: Settlement;
  payOrder: PayOrderRow;
  attempt: AttemptRow;
  events: EventEnvelope[];
}

/** Locks the pay order row first, always: every writer takes locks in the same order. */
export async function lockPayOrder(manager: EntityManager, payOrderId: number): Promise<PayOrderRow> {
  const { sql, params } = lockPayOrderStatement(payOrderId);
  const [row] = await manager.query(sql, params as unknown[]);
  return row as PayOrderRow;
}

/** `lockPayOrder` as a statement of a `batchedTransaction`: its result is the row, alone in a list. */
export function lockPayOrderStatement(payOrderId: number): Statement {
  return { sql: 'SELECT * FROM pay_order WHERE id = ? FOR UPDATE', params: [payOrderId] };
}

/** The payment an order keeps, as a settlement reads it beside the attempt it settles. */
type KeptRow = Pick<AttemptRow, 'channel_order_no' | 'channel' | 'amount' | 'currency' | 'refundable'>;

function buildEvents(
  settlement: Settlement,
  payOrder: PayOrderRow,
  attempt: AttemptRow,
  paidAt: Date | null,
  keptBefore: KeptRow | undefined,
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
        if (settlement.payOrder === 'KEEP_INSTEAD') {
          // The payment kept before is now the extra charge, refunded through its provider.
          const kept = keptBefore!;
          return newEvent(type, {
            ...base,
            channelOrderNo: kept.channel_order_no,
            channel: kept.channel,
            amount: Number(kept.amount),
            currency: kept.currency,
            paidChannelOrderNo: attempt.channel_order_no,
          });
        }
        return newEvent(type, {
          ...base,
          ...money,
          paidChannelOrderNo: payOrder.paid_channel_order_no ?? '',
        });
      case 'payment.kept_changed':
        return newEvent(type, {
          payOrderNo: payOrder.pay_order_no,
          merchantOrderNo: payOrder.merchant_order_no,
          from: keptBefore!.channel_order_no,
          to: attempt.channel_order_no,
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
  /** Written in the settlement's transaction too, in its batch of writes (the raw callback). */
  alsoWrite?: (settlement: Settlement) => Statement[];
  /** The caller hands the result's events to `OutboxRelay.publishCommitted` once this returns. */
  publishAfterCommit?: boolean;
}

/**
 * Settles one attempt with what the provider said: the one path shared by callbacks, the poller
 * and closes. In one transaction of two round trips: lock the pay order and the attempt (and
 * read the payment it keeps); decide (pure); then apply with conditional updates, write the events
 * and whatever `alsoWrite` records beside them (the raw callback) and commit, in one batch that
 * the server stops and rolls back if a conditional update found its row changed
 * (`requireOneRowChanged`). Returns undefined for an attempt we never created.
 */
export async function settleAttempt(
  dataSource: DataSource,
  channelOrderNo: string,
  outcome: ProviderOutcome,
  options: SettleOptions = {},
): Promise<SettleResult | undefined> {
  return batchedTransaction(dataSource, async (send) => {
    // The pay order row first (every writer's lock order), found through the attempt; the
    // subquery itself takes no lock. Then the attempt's row, in the same round trip.
    // Beside them, the payment the order keeps (whether it can be refunded decides which to keep),
    // by a locking read too: a plain read would see the snapshot the subquery above took before
    // the order's lock was granted, without a payment another settlement kept meanwhile.
    const [[payOrder], [attempt], [keptBefore]] = (await send([
      {
        sql: `SELECT * FROM pay_order
               WHERE id = (SELECT pay_order_id FROM channel_order WHERE channel_order_no = ?) FOR UPDATE`,
        params: [channelOrderNo],
      },
      { sql: 'SELECT * FROM channel_order WHERE channel_order_no = ? FOR UPDATE', params: [channelOrderNo] },
      {
        sql: `SELECT k.channel_order_no, k.channel, k.amount, k.currency, k.refundable
                FROM pay_order p JOIN channel_order k ON k.channel_order_no = p.paid_channel_order_no
               WHERE p.id = (SELECT pay_order_id FROM channel_order WHERE channel_order_no = ?) FOR UPDATE`,
        params: [channelOrderNo],
      },
    ])) as [PayOrderRow[], AttemptRow[], KeptRow[]];
    if (!payOrder || !attempt) return undefined;
    const settlement = decideSettlement(
      {
        status: payOrder.status,
        amount: Number(payOrder.amount),
        currency: payOrder.currency,
        paidChannelOrderNo: payOrder.paid_channel_order_no,
        keptRefundable: keptBefore ? Number(keptBefore.refundable) === 1 : null,
      },
      attemptState(attempt),
      outcome,
    );
    const paidAt = outcome.status === 'SUCCESS' ? outcome.paidAt : null;
    const learnsTradeNo = Boolean(outcome.providerTradeNo) && attempt.provider_trade_no === null;
    const writes: Statement[] = [];
    /** The writes whose compare-and-set must have found its row, by their place in `writes`. */
    const mustChangeOne: { index: number; what: string }[] = [];
    if (settlement.attemptTo) {
      mustChangeOne.push({ index: writes.length, what: `attempt ${channelOrderNo}` });
      writes.push({
        sql: `UPDATE channel_order SET status = ?, inflight_key = NULL, settled_at = NOW(3), failure_reason = ?,
                     provider_trade_no = COALESCE(provider_trade_no, ?)
               WHERE id = ? AND status = ?`,
        params: [
          settlement.attemptTo,
          outcome.status === 'FAILED' ? outcome.reason.slice(0, 255) : null,
          learnsTradeNo ? outcome.providerTradeNo : null,
          attempt.id,
          attempt.status,
        ],
      });
    } else if (learnsTradeNo) {
      writes.push({
        sql: 'UPDATE channel_order SET provider_trade_no = ? WHERE id = ? AND provider_trade_no IS NULL',
        params: [outcome.providerTradeNo, attempt.id],
      });
    }
    if (settlement.payOrder === 'MARK_PAID') {
      mustChangeOne.push({ index: writes.length, what: `pay order ${payOrder.pay_order_no}` });
      writes.push({
        sql: `UPDATE pay_order SET status = 'PAID', paid_channel_order_no = ?, paid_at = ?, version = version + 1
               WHERE id = ? AND status IN ('UNPAID', 'PAYING')`,
        params: [channelOrderNo, paidAt, payOrder.id],
      });
    } else if (settlement.payOrder === 'KEEP_INSTEAD') {
      // Kept instead of the payment kept before (compare-and-set on it), which becomes the extra
      // charge: its settled_at is now, so the refunder's sweep finds it if the event is lost.
      mustChangeOne.push({ index: writes.length, what: `pay order ${payOrder.pay_order_no}` });
      writes.push(
        {
          sql: `UPDATE pay_order SET paid_channel_order_no = ?, version = version + 1
                 WHERE id = ? AND status = 'PAID' AND paid_channel_order_no = ?`,
          params: [channelOrderNo, payOrder.id, keptBefore!.channel_order_no],
        },
        {
          sql: "UPDATE channel_order SET settled_at = NOW(3) WHERE channel_order_no = ? AND status = 'SUCCESS'",
          params: [keptBefore!.channel_order_no],
        },
      );
    } else if (settlement.payOrder === 'RELEASE_IF_IDLE' && payOrder.status === 'PAYING') {
      // The status is checked here, under the row's lock, not in the WHERE: with few orders PAYING,
      // MariaDB would read through the (status, expire_at) index and lock other orders' entries.
      writes.push({
        sql: `UPDATE pay_order SET status = 'UNPAID', version = version + 1
               WHERE id = ? AND NOT EXISTS (SELECT 1 FROM channel_order WHERE pay_order_id = ? AND status = 'PAYING')`,
        params: [payOrder.id, payOrder.id],
      });
    }
    const paidOrder =
      settlement.payOrder === 'MARK_PAID' || settlement.payOrder === 'KEEP_INSTEAD'
        ? { ...payOrder, paid_channel_order_no: channelOrderNo }
        : payOrder;
    const events = buildEvents(settlement, paidOrder, attempt, paidAt, keptBefore);
    if (events.length > 0)
      writes.push(outboxInsert(events, { publishAfterCommit: options.publishAfterCommit }));
    writes.push(...(options.alsoWrite?.(settlement) ?? []));
    if (writes.length > 0) {
      // Each compare-and-set is checked by the server right after it, so the commit travels with
      // the writes: a row not found as locked stops the batch before the COMMIT and rolls it back.
      const checked = writes.flatMap((write, index) =>
        mustChangeOne.some((must) => must.index === index) ? [write, requireOneRowChanged()] : [write],
      );
      try {
        await send(checked, { commit: true });
      } catch (error) {
        if (!isOneRowRequired(error)) throw error;
        const what = mustChangeOne.map((must) => must.what).join(' or ');
        throw new TransientError(`${what} changed while settling`, { cause: error });
      }
    }
    return { settlement, payOrder: paidOrder, attempt, events };
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
  // Two round trips: the order's lock (and its attempts in flight), then the close with its event.
  return batchedTransaction(dataSource, async (send) => {
    const [[payOrder], busy] = (await send([
      lockPayOrderStatement(payOrderId),
      ...(options.onlyIfIdle
        ? [
            {
              sql: "SELECT COUNT(*) AS n FROM channel_order WHERE pay_order_id = ? AND status = 'PAYING'",
              params: [payOrderId],
            },
          ]
        : []),
    ])) as [PayOrderRow[], { n: number }[] | undefined];
    if (!payOrder || (payOrder.status !== 'UNPAID' && payOrder.status !== 'PAYING')) return false;
    if (busy && Number(busy[0]!.n) > 0) return false;
    await send(
      [
        {
          sql: "UPDATE pay_order SET status = 'CLOSED', closed_at = NOW(3), version = version + 1 WHERE id = ? AND status IN ('UNPAID', 'PAYING')",
          params: [payOrderId],
        },
        outboxInsert([
          newEvent('payment.closed', {
            payOrderNo: payOrder.pay_order_no,
            merchantOrderNo: payOrder.merchant_order_no,
            reason,
          }),
        ]),
      ],
      { commit: true },
    );
    return true;
  });
}
