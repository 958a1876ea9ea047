import { type DataSource } from '@payments/platform';
import {
  findRefund,
  requireManualRefund,
  finishRefund,
  appendRefundEvent,
  attemptState,
  lockPayOrder,
  type AttemptRow,
  type PayOrderRow,
  type RefundReason,
  type RefundRow,
} from '@payments/core';
import { needsApproval, refundNoFor, refundProblem } from '../domain/refund-rules';

export type RequestOutcome =
  | { outcome: 'CREATED'; refund: RefundRow }
  | { outcome: 'EXISTS'; refund: RefundRow }
  | { outcome: 'REFUSED'; problem: string };

export interface RiskLimits {
  autoMaxAmount: number;
  dailyCap: number;
}

/** The refunder's SQL. Every refund is created once: its number is unique per attempt and reason. */
export class RefundRepository {
  constructor(private readonly dataSource: DataSource) {}

  find(refundNo: string): Promise<RefundRow | undefined> {
    return findRefund(this.dataSource, refundNo);
  }

  async findAttempt(channelOrderNo: string): Promise<AttemptRow | undefined> {
    const [row] = await this.dataSource.query('SELECT * FROM channel_order WHERE channel_order_no = ?', [
      channelOrderNo,
    ]);
    return row as AttemptRow | undefined;
  }

  /**
   * Creates the refund order for one extra charge, after the hard checks, in one transaction with
   * its `refund.requested` event. Risk control decides PROCESSING or PENDING_APPROVAL; the day's
   * automatic total is read under lock so two refunders cannot both pass the cap.
   */
  async request(channelOrderNo: string, reason: RefundReason, limits: RiskLimits): Promise<RequestOutcome> {
    const attemptRef = await this.findAttempt(channelOrderNo);
    if (!attemptRef) return { outcome: 'REFUSED', problem: `no attempt ${channelOrderNo}` };
    const refundNo = refundNoFor(channelOrderNo, reason);
    return this.dataSource.transaction(async (manager) => {
      const payOrder = await lockPayOrder(manager, Number(attemptRef.pay_order_id));
      const [existing] = (await manager.query('SELECT * FROM refund_order WHERE refund_no = ?', [
        refundNo,
      ])) as RefundRow[];
      if (existing) return { outcome: 'EXISTS', refund: existing };
      const [attempt] = (await manager.query('SELECT * FROM channel_order WHERE id = ? FOR UPDATE', [
        attemptRef.id,
      ])) as AttemptRow[];
      const others = (await manager.query(
        'SELECT refund_no, status FROM refund_order WHERE channel_order_no = ?',
        [channelOrderNo],
      )) as RefundRow[];
      const problem = refundProblem({
        reason,
        attempt: attemptState(attempt!),
        payOrder: { status: payOrder.status, paidChannelOrderNo: payOrder.paid_channel_order_no },
        refund: { amount: Number(attempt!.amount), currency: attempt!.currency },
        otherRefunds: others.map((other) => ({ refundNo: other.refund_no, status: other.status })),
      });
      if (problem) return { outcome: 'REFUSED', problem };
      const [today] = await manager.query(
        `SELECT COALESCE(SUM(amount), 0) AS total FROM refund_order
          WHERE currency = ? AND approved_at IS NULL AND status IN ('PROCESSING', 'SUCCESS') AND created_at >= CURDATE()
          FOR UPDATE`,
        [attempt!.currency],
      );
      const amount = Number(attempt!.amount);
      const status = needsApproval(amount, { ...limits, automaticToday: Number(today.total) })
        ? 'PENDING_APPROVAL'
        : 'PROCESSING';
      await manager.query(
        `INSERT INTO refund_order (refund_no, pay_order_id, merchant_order_no, channel_order_no, channel, reason, amount, currency, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          refundNo,
          payOrder.id,
          payOrder.merchant_order_no,
          channelOrderNo,
          attempt!.channel,
          reason,
          amount,
          attempt!.currency,
          status,
        ],
      );
      const [refund] = (await manager.query('SELECT * FROM refund_order WHERE refund_no = ?', [
        refundNo,
      ])) as RefundRow[];
      await appendRefundEvent(manager, 'refund.requested', refund!);
      return { outcome: 'CREATED', refund: refund! };
    });
  }

  async payOrderOf(refund: RefundRow): Promise<PayOrderRow[]> {
    return this.dataSource.query('SELECT * FROM pay_order WHERE id = ?', [refund.pay_order_id]);
  }

  /** The attempt's refunds other than this one. */
  async othersOf(refund: RefundRow): Promise<RefundRow[]> {
    return this.dataSource.query('SELECT * FROM refund_order WHERE channel_order_no = ? AND id <> ?', [
      refund.channel_order_no,
      refund.id,
    ]);
  }

  /** PROCESSING → SUCCESS or FAILED, once, with its event. */
  async finish(refund: RefundRow, status: 'SUCCESS' | 'FAILED', error?: string): Promise<boolean> {
    return finishRefund(this.dataSource, refund, status, error);
  }

  /** Marks a PROCESSING refund as still being worked on (the sweep leaves it alone). */
  /** The provider cannot make it: owed back by hand (MANUAL_REQUIRED). */
  async requireManual(refund: RefundRow, why: string): Promise<boolean> {
    return requireManualRefund(this.dataSource, refund, why);
  }

  async touch(refund: RefundRow, lastError?: string): Promise<void> {
    await this.dataSource.query('UPDATE refund_order SET updated_at = NOW(3), last_error = ? WHERE id = ?', [
      lastError?.slice(0, 512) ?? null,
      refund.id,
    ]);
  }

  /**
   * Extra successes without any refund: duplicates of a PAID order, and successes of a CLOSED
   * one, among the attempts settled within `lookbackMs` (an index range on (status, settled_at),
   * so the sweep's cost follows the recent traffic, not the whole history).
   */
  async extraChargesWithoutRefund(
    limit: number,
    lookbackMs: number,
  ): Promise<{ channel_order_no: string; reason: RefundReason }[]> {
    return this.dataSource.query(
      `SELECT c.channel_order_no, IF(p.status = 'CLOSED', 'PAID_AFTER_CLOSE', 'DUPLICATE_PAYMENT') AS reason
         FROM channel_order c JOIN pay_order p ON p.id = c.pay_order_id
        WHERE c.status = 'SUCCESS' AND c.settled_at >= NOW(3) - INTERVAL ? MICROSECOND
          AND (p.status = 'CLOSED' OR (p.status = 'PAID' AND p.paid_channel_order_no <> c.channel_order_no))
          AND NOT EXISTS (SELECT 1 FROM refund_order r WHERE r.channel_order_no = c.channel_order_no)
        ORDER BY c.settled_at LIMIT ?`,
      [lookbackMs * 1000, limit],
    );
  }

  /** PROCESSING refunds nobody has worked on for `graceMs` (their message was lost). */
  async stalled(graceMs: number, limit: number): Promise<RefundRow[]> {
    return this.dataSource.query(
      "SELECT * FROM refund_order WHERE status = 'PROCESSING' AND updated_at < NOW(3) - INTERVAL ? MICROSECOND ORDER BY id LIMIT ?",
      [graceMs * 1000, limit],
    );
  }
}
