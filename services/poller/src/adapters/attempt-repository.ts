import { affectedRows, sqlQuery, type DataSource } from '@payments/platform';
import { type AttemptRow } from '@payments/core';

/** The poller's SQL: indexed, bounded, and claim-by-compare-and-set so pollers never collide. */
export class AttemptRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(channelOrderNo: string): Promise<AttemptRow | undefined> {
    const [row] = await sqlQuery(this.dataSource, 'SELECT * FROM channel_order WHERE channel_order_no = ?', [
      channelOrderNo,
    ]);
    return row as AttemptRow | undefined;
  }

  /**
   * Takes the next poll of an attempt: only the message owning `seq` (its poll_count) may. False
   * when another message (a duplicate event, or the sweep) owns the attempt now.
   */
  async claimNextPoll(attemptId: number, seq: number, delayMs: number): Promise<boolean> {
    const result = await sqlQuery(
      this.dataSource,
      `UPDATE channel_order SET poll_count = ?, next_poll_at = NOW(3) + INTERVAL ? MICROSECOND
        WHERE id = ? AND poll_count = ? AND status = 'PAYING'`,
      [seq + 1, delayMs * 1000, attemptId, seq],
    );
    return affectedRows(result) === 1;
  }

  /**
   * Claims the close of an attempt whose create nobody confirmed: only while it still has no pay
   * URL, so a retried apply that confirmed it first keeps it open (and one that confirms it after
   * finds the claim and hands nothing out). False when the confirmation came first.
   */
  async claimClose(attemptId: number): Promise<boolean> {
    const result = await sqlQuery(
      this.dataSource,
      `UPDATE channel_order SET close_claimed_at = NOW(3)
        WHERE id = ? AND status = 'PAYING' AND pay_url IS NULL AND close_claimed_at IS NULL`,
      [attemptId],
    );
    return affectedRows(result) === 1;
  }

  /** The close did not end the attempt (it failed, or the provider would not close): a confirmation may win again. */
  async releaseClose(attemptId: number): Promise<void> {
    await sqlQuery(this.dataSource, 'UPDATE channel_order SET close_claimed_at = NULL WHERE id = ?', [
      attemptId,
    ]);
  }

  /** The provider's id of a trade learned by replaying its create; never replaces one known. */
  async learnProviderTradeNo(attemptId: number, providerTradeNo: string): Promise<void> {
    await sqlQuery(
      this.dataSource,
      'UPDATE channel_order SET provider_trade_no = ? WHERE id = ? AND provider_trade_no IS NULL',
      [providerTradeNo, attemptId],
    );
  }

  async markForReview(attemptId: number, reason: string): Promise<void> {
    await sqlQuery(
      this.dataSource,
      'UPDATE channel_order SET needs_review = 1, failure_reason = ? WHERE id = ?',
      [reason.slice(0, 255), attemptId],
    );
  }

  /**
   * Takes an attempt parked for review back into polling (its dead letter was replayed): only one
   * replayed copy wins, and it owns the next poll.
   */
  async resumeAfterReview(attemptId: number, seq: number, delayMs: number): Promise<boolean> {
    const result = await sqlQuery(
      this.dataSource,
      `UPDATE channel_order SET needs_review = 0, poll_count = ?, next_poll_at = NOW(3) + INTERVAL ? MICROSECOND
        WHERE id = ? AND poll_count = ? AND status = 'PAYING' AND needs_review = 1`,
      [seq + 1, delayMs * 1000, attemptId, seq],
    );
    return affectedRows(result) === 1;
  }

  /**
   * In-flight attempts whose next query is overdue by more than `graceMs` (a lost delayed
   * message). Attempts parked for review wait for a person, not for the sweep.
   */
  async overdue(graceMs: number, limit: number): Promise<AttemptRow[]> {
    return sqlQuery(
      this.dataSource,
      `SELECT * FROM channel_order WHERE status = 'PAYING' AND needs_review = 0
          AND next_poll_at < NOW(3) - INTERVAL ? MICROSECOND
        ORDER BY next_poll_at LIMIT ?`,
      [graceMs * 1000, limit],
    );
  }

  /** Open pay orders past their expiry with no attempt in flight. */
  async expiredIdleOrders(limit: number): Promise<{ id: number; merchant_order_no: string }[]> {
    return sqlQuery(
      this.dataSource,
      `SELECT p.id, p.merchant_order_no FROM pay_order p
        WHERE p.status IN ('UNPAID', 'PAYING') AND p.expire_at < NOW(3)
          AND NOT EXISTS (SELECT 1 FROM channel_order c WHERE c.pay_order_id = p.id AND c.status = 'PAYING')
        ORDER BY p.expire_at LIMIT ?`,
      [limit],
    );
  }

  async oldestInflightAgeSeconds(): Promise<number> {
    const [row] = await sqlQuery(
      this.dataSource,
      "SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(3)) / 1e6 AS age FROM channel_order WHERE status = 'PAYING'",
    );
    return row?.age == null ? 0 : Number(row.age);
  }
}
