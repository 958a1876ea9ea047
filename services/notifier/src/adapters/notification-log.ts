import {
  affectedRows,
  appendToOutbox,
  newEvent,
  type DataSource,
  type EventEnvelope,
} from '@payments/common';

export type NotificationStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

/** The order-notification log: one row per payment.succeeded event. */
export class NotificationLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Creates the row if new; returns its status. */
  async open(event: EventEnvelope<'payment.succeeded'>): Promise<NotificationStatus> {
    const inserted = await this.dataSource.query(
      "INSERT IGNORE INTO notification_log (event_id, merchant_order_no, pay_order_no, status) VALUES (?, ?, ?, 'PENDING')",
      [event.eventId, event.data.merchantOrderNo, event.data.payOrderNo],
    );
    if (affectedRows(inserted) === 1) return 'PENDING';
    const [row] = await this.dataSource.query('SELECT status FROM notification_log WHERE event_id = ?', [
      event.eventId,
    ]);
    return row.status as NotificationStatus;
  }

  /** Counts failed calls; with no call made (breaker open) the last real error stays. */
  async recordFailure(eventId: string, calls: number, lastError: string): Promise<void> {
    await this.dataSource.query(
      "UPDATE notification_log SET attempts = attempts + ?, last_error = IF(? = 0, last_error, ?), status = IF(status = 'FAILED', 'PENDING', status) WHERE event_id = ? AND status <> 'DELIVERED'",
      [calls, calls, lastError.slice(0, 512), eventId],
    );
  }

  /** DELIVERED with `order.notified`, once (a concurrent delivery of the same event writes nothing). */
  async markDelivered(event: EventEnvelope<'payment.succeeded'>, calls: number): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const updated = await manager.query(
        "UPDATE notification_log SET status = 'DELIVERED', delivered_at = NOW(3), attempts = attempts + ? WHERE event_id = ? AND status <> 'DELIVERED'",
        [calls, event.eventId],
      );
      if (affectedRows(updated) !== 1) return false;
      await appendToOutbox(manager, [
        newEvent('order.notified', {
          payOrderNo: event.data.payOrderNo,
          merchantOrderNo: event.data.merchantOrderNo,
          notifiedEventId: event.eventId,
          deliveredAt: new Date().toISOString(),
        }),
      ]);
      return true;
    });
  }

  /** FAILED with `order.notify_failed`: the schedule is spent. */
  async markFailed(event: EventEnvelope<'payment.succeeded'>, lastError: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const updated = await manager.query(
        "UPDATE notification_log SET status = 'FAILED', last_error = ? WHERE event_id = ? AND status = 'PENDING'",
        [lastError.slice(0, 512), event.eventId],
      );
      if (affectedRows(updated) !== 1) return;
      await appendToOutbox(manager, [
        newEvent('order.notify_failed', {
          payOrderNo: event.data.payOrderNo,
          merchantOrderNo: event.data.merchantOrderNo,
          notifiedEventId: event.eventId,
          lastError: lastError.slice(0, 512),
        }),
      ]);
    });
  }
}
