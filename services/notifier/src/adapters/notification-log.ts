import {
  sqlQuery,
  affectedRows,
  batchedTransaction,
  type Statement,
  type DataSource,
  type EntityManager,
} from '@payments/platform';
import { appendToOutbox, newEvent, outboxInsertIfOneRowChanged, type EventEnvelope } from '@payments/core';

export type NotificationStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

/**
 * The order-notification log: one row per payment.succeeded event, written with the outcome of a
 * delivery (nothing is written before the order service is called: that would be a durable commit
 * on the way of every payment, and a crash before the outcome leaves the message unacked anyway).
 */
export class NotificationLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The event's row status, or undefined before the first outcome was recorded. */
  async status(eventId: string): Promise<NotificationStatus | undefined> {
    const [row] = await sqlQuery(this.dataSource, 'SELECT status FROM notification_log WHERE event_id = ?', [
      eventId,
    ]);
    return row?.status as NotificationStatus | undefined;
  }

  /** Counts failed calls; with no call made (breaker open) the last real error stays. */
  async recordFailure(
    event: EventEnvelope<'payment.succeeded'>,
    calls: number,
    lastError: string,
  ): Promise<void> {
    const error = calls === 0 ? null : lastError.slice(0, 512);
    if (await this.insertRow(this.dataSource.manager, event, 'PENDING', calls, error)) return;
    await sqlQuery(
      this.dataSource,
      // updated_at always: a try the breaker skipped changes nothing else, and the sweep takes a row
      // untouched for long for a delivery whose retry was lost.
      "UPDATE notification_log SET attempts = attempts + ?, last_error = IF(? = 0, last_error, ?), status = IF(status = 'FAILED', 'PENDING', status), updated_at = NOW(3) WHERE event_id = ? AND status <> 'DELIVERED'",
      [calls, calls, lastError.slice(0, 512), event.eventId],
    );
  }

  /**
   * DELIVERED with `order.notified`, once: returns the event written, or null when a concurrent
   * delivery of the same event got there first (nothing written). The event takes the outbox's
   * fast path: the caller hands it to `OutboxRelay.publishCommitted`. One round trip for an event's
   * first outcome (the row and its event, the event only if the row was new); a second when the
   * row was there already (an earlier failure): it is updated, and the event written only if the
   * update changed it.
   */
  async markDelivered(
    event: EventEnvelope<'payment.succeeded'>,
    calls: number,
  ): Promise<EventEnvelope<'order.notified'> | null> {
    const notified = newEvent('order.notified', {
      payOrderNo: event.data.payOrderNo,
      merchantOrderNo: event.data.merchantOrderNo,
      notifiedEventId: event.eventId,
      deliveredAt: new Date().toISOString(),
    });
    const held = { publishAfterCommit: true };
    const [inserted] = await batchedTransaction(this.dataSource, (send) =>
      send([rowInsert(event, 'DELIVERED', calls, null), outboxInsertIfOneRowChanged(notified, held)], {
        commit: true,
      }),
    );
    if (affectedRows(inserted) === 1) return notified;
    const [updated] = await batchedTransaction(this.dataSource, (send) =>
      send(
        [
          {
            sql: "UPDATE notification_log SET status = 'DELIVERED', delivered_at = NOW(3), attempts = attempts + ? WHERE event_id = ? AND status <> 'DELIVERED'",
            params: [calls, event.eventId],
          },
          outboxInsertIfOneRowChanged(notified, held),
        ],
        { commit: true },
      ),
    );
    return affectedRows(updated) === 1 ? notified : null;
  }

  /** FAILED with `order.notify_failed`: the schedule is spent. */
  async markFailed(event: EventEnvelope<'payment.succeeded'>, lastError: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.insertRow(manager, event, 'FAILED', 0, lastError.slice(0, 512)))) {
        const updated = await manager.query(
          "UPDATE notification_log SET status = 'FAILED', last_error = ? WHERE event_id = ? AND status = 'PENDING'",
          [lastError.slice(0, 512), event.eventId],
        );
        if (affectedRows(updated) !== 1) return;
      }
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

  /** The event's first row, with its first outcome; false when it has one already. */
  private async insertRow(
    manager: EntityManager,
    event: EventEnvelope<'payment.succeeded'>,
    status: NotificationStatus,
    attempts: number,
    lastError: string | null,
  ): Promise<boolean> {
    const { sql, params } = rowInsert(event, status, attempts, lastError);
    return affectedRows(await manager.query(sql, params as unknown[])) === 1;
  }
}

/** The INSERT of an event's first row, with its first outcome; it changes nothing when there is one. */
function rowInsert(
  event: EventEnvelope<'payment.succeeded'>,
  status: NotificationStatus,
  attempts: number,
  lastError: string | null,
): Statement {
  return {
    sql: `INSERT IGNORE INTO notification_log (event_id, merchant_order_no, pay_order_no, status, attempts, last_error, delivered_at)
           VALUES (?, ?, ?, ?, ?, ?, IF(? = 'DELIVERED', NOW(3), NULL))`,
    params: [
      event.eventId,
      event.data.merchantOrderNo,
      event.data.payOrderNo,
      status,
      attempts,
      lastError,
      status,
    ],
  };
}
