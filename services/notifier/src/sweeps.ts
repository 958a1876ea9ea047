import { Periodic, type Broker, type DataSource } from '@payments/platform';
import type { NotifierDeps } from './deps';

/** How far back the first sweep after a start looks (payments the broker may have stranded before it). */
const FIRST_LOOKBACK_MS = 24 * 60 * 60 * 1000;
/** The least time a sent payment may go unseen by every notifier before it is sent again. */
const MIN_UNSEEN_MS = 60_000;
/** Rows read per sweep: the rest wait for the next sweep. */
const BATCH = 500;
/** A payment sent again this many times and still unseen is left to the operator (logged as an error). */
const MAX_RESENDS = 10;

interface Resent {
  payload: string;
  resentAt: number;
  times: number;
}

/**
 * Backstop, every SWEEP_INTERVAL: payments the broker confirmed and no notifier ever saw
 * (defence in depth behind the broker, as the poller's and the refunder's sweeps are).
 * A `payment.succeeded` event published (its outbox row sent) more than two sweeps (at least a
 * minute) ago with no notification log row at all has never reached a notifier's handler: every
 * delivery attempt, even one the breaker skipped, writes that row. Such an event is sent again, the same event
 * with the same `eventId`, straight to the notifier's work queue. A duplicate of an event that
 * was only slow is harmless: a delivered event is not sent twice, and the order service takes
 * the `eventId` as the key. The cluster chaos test once found payments PAID and never reported
 * after a broker node was lost under load; this is what makes such a loss heal by itself.
 *
 * Each sweep reads only the rows sent since the previous one (the first after a start reads
 * the last day), through the outbox's `(sent_at, id)` index; an event it sent again is checked
 * again at later sweeps until the notifier has seen it.
 *
 * The same sweep restarts deliveries whose next retry never came: a row still `PENDING` and not
 * touched for longer than the longest wait of NOTIFY_SCHEDULE and RETRY_SCHEDULE (and `afterMs`)
 * has its retry message stuck or lost in a delay tier (RabbitMQ's quorum queues can strand
 * dead-lettering after leader changes: rabbitmq-server #16652, #10718; the cluster chaos test saw
 * a retry held in a tier past the end of the run). Its event is sent again, as new: its schedule
 * starts over. Every outcome, even a try the breaker skipped, touches the row, so a delivery
 * that is only waiting is never taken for a stalled one.
 */
export class NotifierSweeps {
  /** Rows sent up to this instant (as the database gave it) have been looked at; none yet at start. */
  private scannedUpTo: Date | undefined;
  private readonly resent = new Map<string, Resent>();
  private readonly afterMs: number;
  /** A `PENDING` row untouched this long has lost its retry. */
  private readonly stalledAfterMs: number;
  /** Stalled deliveries sent again, and when: not again before the new one had its time. */
  private readonly restarted = new Map<string, number>();
  private readonly periodic: Periodic;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly dataSource: DataSource,
    private readonly broker: Broker,
  ) {
    // Two sweeps, and at least a minute: an event only slow to reach a notifier (a backlog) is
    // seldom sent twice. A duplicate costs nothing: the delivered check and the eventId.
    this.afterMs = Math.max(2 * deps.config.SWEEP_INTERVAL, MIN_UNSEEN_MS);
    this.stalledAfterMs =
      Math.max(...deps.config.NOTIFY_SCHEDULE, ...deps.config.RETRY_SCHEDULE, 0) + this.afterMs;
    this.periodic = new Periodic(
      { name: 'unreported-payment sweep', everyMs: deps.config.SWEEP_INTERVAL, run: () => this.runOnce() },
      deps.log,
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass: sends again what no notifier has seen, and restarts stalled deliveries. Returns how many it sent. */
  async runOnce(): Promise<number> {
    return (await this.resendUnseen()) + (await this.restartStalled());
  }

  private async resendUnseen(): Promise<number> {
    // Instants from the database's clock, handed back to it as it gave them.
    const [bounds] = (await this.dataSource.query(
      'SELECT NOW(3) - INTERVAL ? MICROSECOND AS until, NOW(3) - INTERVAL ? MICROSECOND AS first',
      [this.afterMs * 1000, FIRST_LOOKBACK_MS * 1000],
    )) as { until: Date; first: Date }[];
    const from = this.scannedUpTo ?? bounds!.first;
    const rows = (await this.dataSource.query(
      `SELECT o.event_id, o.payload, o.sent_at FROM outbox o
         LEFT JOIN notification_log n ON n.event_id = o.event_id
        WHERE o.sent_at > ? AND o.sent_at <= ? AND o.event_type = 'payment.succeeded' AND n.event_id IS NULL
        ORDER BY o.sent_at, o.id LIMIT ${BATCH}`,
      [from, bounds!.until],
    )) as { event_id: string; payload: string; sent_at: Date }[];
    // A full batch: the next sweep goes on from the last row read.
    this.scannedUpTo = rows.length === BATCH ? rows.at(-1)!.sent_at : bounds!.until;
    const now = Date.now();
    for (const row of rows) this.resent.set(row.event_id, { payload: row.payload, resentAt: 0, times: 0 });
    const due = [...this.resent].filter(([, entry]) => entry.resentAt <= now - this.afterMs);
    const seen = await this.seenByANotifier(due.map(([eventId]) => eventId));
    let sent = 0;
    for (const [eventId, entry] of due) {
      if (seen.has(eventId)) {
        this.resent.delete(eventId);
        continue;
      }
      if (entry.times >= MAX_RESENDS) {
        this.deps.log.error(
          { eventId, times: entry.times },
          'payment sent again and still never seen by a notifier',
        );
        this.resent.delete(eventId);
        continue;
      }
      await this.sendAgain(eventId, entry.payload);
      entry.resentAt = now;
      entry.times += 1;
      sent += 1;
    }
    if (sent > 0) {
      this.deps.metrics.notifications.inc({ result: 'resent' }, sent);
      this.deps.log.warn({ sent }, 'payments the broker confirmed but no notifier saw: sent again');
    }
    return sent;
  }

  private async restartStalled(): Promise<number> {
    const rows = (await this.dataSource.query(
      `SELECT n.event_id, o.payload FROM notification_log n JOIN outbox o ON o.event_id = n.event_id
        WHERE n.status = 'PENDING' AND n.updated_at < NOW(3) - INTERVAL ? MICROSECOND
        ORDER BY n.updated_at LIMIT ${BATCH}`,
      [this.stalledAfterMs * 1000],
    )) as { event_id: string; payload: string }[];
    const now = Date.now();
    for (const [eventId, at] of this.restarted)
      if (at <= now - this.stalledAfterMs) this.restarted.delete(eventId);
    let sent = 0;
    for (const row of rows) {
      if (this.restarted.has(row.event_id)) continue;
      await this.sendAgain(row.event_id, row.payload);
      this.restarted.set(row.event_id, now);
      sent += 1;
    }
    if (sent > 0) {
      this.deps.metrics.notifications.inc({ result: 'resent' }, sent);
      this.deps.log.warn({ sent }, 'deliveries whose retry never came back: started again');
    }
    return sent;
  }

  /** The same event, with the same `eventId`, straight to the notifier's work queue. */
  private sendAgain(eventId: string, payload: string): Promise<void> {
    return this.broker.sendToQueue(
      this.broker.topology.queue('notifierPaymentSucceeded'),
      Buffer.from(payload),
      {
        messageId: eventId,
        type: 'payment.succeeded',
      },
    );
  }

  private async seenByANotifier(eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = (await this.dataSource.query(
      `SELECT event_id FROM notification_log WHERE event_id IN (${eventIds.map(() => '?').join(',')})`,
      eventIds,
    )) as { event_id: string }[];
    return new Set(rows.map((row) => row.event_id));
  }
}
