import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { errorMessage, Periodic, sqlQuery, type Broker, type Logger } from '@payments/platform';
import type { EventEnvelope } from '../contracts';

export interface OutboxRelayOptions {
  batchSize?: number;
  /** How often to look for unsent rows when nobody kicks the relay. */
  pollIntervalMs?: number;
  /** How long a claim holds before another relay may take the rows (a relay that died). */
  claimMs?: number;
  /** How long one publish may wait for the broker's confirm. */
  publishTimeoutMs?: number;
  /**
   * How long a fast-path event waits, once published, for others to be marked sent in the same
   * statement. Far inside the writer's hold (`WRITER_PUBLISH_HOLD_MS`), so no claiming relay
   * takes it meanwhile; every statement saved is a round trip on the way of every payment.
   */
  markLingerMs?: number;
}

/** A row a relay may claim: unsent, and neither held for its writer nor claimed by a live relay. */
const CLAIMABLE = 'sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < NOW(3))';

interface OutboxRow {
  id: number;
  event_id: string;
  event_type: string;
  payload: string;
}

/**
 * Publishes outbox rows to `payments.events` with publisher confirms and marks them sent.
 * Several relays may run at once: each claims a batch (`SELECT … FOR UPDATE SKIP LOCKED`, then
 * stamps its claim), so a row is published by one relay; a relay that dies mid-batch leaves its
 * claim to expire and another relay publishes the rows again (at least once; consumers
 * de-duplicate by eventId).
 *
 * The fast path, for a settlement's events (a payment on its way to the order service) and the
 * notifier's `order.notified` (one per delivery: claimed one at a time, each would cost a claim
 * transaction of its own): the writer appends them held (`publishAfterCommit`) and hands them to
 * `publishCommitted` after its commit, which publishes at once and marks them sent, many in one
 * statement, with no claim transaction in between. A row it could not publish is claimed like any
 * other once its hold lapses. Every other event (applies, closes, refunds, failed notifications)
 * goes the claiming way, which batches them under load.
 */
export class OutboxRelay {
  /** Publishes what other writers left (and what a fast path could not) every `pollIntervalMs`. */
  private readonly poll: Periodic;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly claimMs: number;
  private readonly publishTimeoutMs: number;
  /** Fast-path publishes not finished yet (`stop` waits for them). */
  private readonly publishing = new Set<Promise<void>>();
  /** Event ids published on the fast path, waiting to be marked sent in one statement. */
  private sentToMark: string[] = [];
  private marking: Promise<void> | undefined;
  private readonly markLingerMs: number;
  published = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly broker: Broker,
    private readonly log: Logger,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.claimMs = options.claimMs ?? 30_000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.markLingerMs = options.markLingerMs ?? 20;
    this.poll = new Periodic(
      { name: 'outbox poll', everyMs: this.pollIntervalMs, firstAfterMs: 0, run: () => this.pollUnsent() },
      log,
    );
  }

  start(): void {
    this.stopped = false;
    this.poll.start();
  }

  /**
   * The poll: one plain read for a row a relay may claim, and the claiming drain only when there
   * is one. Nearly every poll finds none (the fast path publishes what settles, writers kick the
   * relay after their commits), and a claim transaction that finds nothing is four round trips
   * every `pollIntervalMs` in every process, about a third of what an idle service costs.
   */
  private async pollUnsent(): Promise<void> {
    if (this.running || this.stopped || !this.broker.isConnected()) return;
    const due = await sqlQuery<unknown[]>(this.dataSource, `SELECT 1 FROM outbox WHERE ${CLAIMABLE} LIMIT 1`);
    if (due.length > 0) this.kick();
  }

  /** Publish soon: called right after a commit that wrote events. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(() => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  /**
   * Publishes events its caller has just committed (appended with `publishAfterCommit`), at once,
   * and marks them sent. Never throws: what it could not publish waits for a claiming relay.
   */
  publishCommitted(events: readonly EventEnvelope[]): void {
    if (events.length === 0) return;
    // Published but not marked sent: once their hold lapses a relay sends them again (consumers
    // de-duplicate by eventId).
    const work = this.publishNow(events).catch((error: unknown) =>
      this.log.warn({ err: errorMessage(error) }, 'published events not marked sent'),
    );
    this.publishing.add(work);
    void work.finally(() => this.publishing.delete(work));
  }

  private async publishNow(events: readonly EventEnvelope[]): Promise<void> {
    // Cut off from the broker: the rows' hold lapses and a relay publishes them once it is back.
    if (!this.broker.isConnected()) return;
    const results = await Promise.allSettled(
      events.map((event) => this.publishEvent(event.eventId, event.type, JSON.stringify(event))),
    );
    const sent = events.filter((_, index) => results[index]!.status === 'fulfilled');
    this.published += sent.length;
    if (sent.length < events.length)
      this.log.warn({ unsent: events.length - sent.length }, 'events left to the relay');
    if (sent.length > 0) await this.markSent(sent.map((event) => event.eventId));
  }

  /** One event to `payments.events`, confirmed by the broker: both paths publish through here. */
  private publishEvent(eventId: string, type: string, payload: string): Promise<void> {
    return this.broker.publish(this.broker.topology.exchange('events'), type, Buffer.from(payload), {
      messageId: eventId,
      type,
      timeoutMs: this.publishTimeoutMs,
    });
  }

  /**
   * Marks fast-path events sent, many in one statement: those published within `markLingerMs` of
   * the first, and those published while a statement is running.
   */
  private markSent(eventIds: string[]): Promise<void> {
    this.sentToMark.push(...eventIds);
    this.marking ??= (async () => {
      if (this.markLingerMs > 0 && !this.stopped)
        await new Promise((resolve) => setTimeout(resolve, this.markLingerMs));
      while (this.sentToMark.length > 0) {
        const batch = this.sentToMark.splice(0, 500);
        await sqlQuery(
          this.dataSource,
          `UPDATE outbox SET sent_at = NOW(3) WHERE event_id IN (${batch.map(() => '?').join(',')}) AND sent_at IS NULL`,
          batch,
        );
      }
    })().finally(() => (this.marking = undefined));
    return this.marking;
  }

  /** Stops polling and waits for the work in hand (the claimed batch, fast-path publishes). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.poll.stop();
    await this.running;
    await Promise.all([...this.publishing]);
    await this.marking?.catch(() => undefined);
  }

  /** Publishes until nothing is left to claim; returns how many rows it sent. */
  async drain(): Promise<number> {
    let sent = 0;
    let deadlocks = 0;
    for (;;) {
      try {
        const batch = await this.publishBatch();
        sent += batch;
        if (batch < this.batchSize) break;
      } catch (error) {
        // Relays claiming while another marks rows sent can deadlock in InnoDB (secondary index
        // and primary key locked in opposite orders); the loser's work was rolled back whole,
        // so it simply claims again.
        if (isDeadlock(error) && ++deadlocks <= 3) continue;
        this.log.warn({ err: errorMessage(error) }, 'outbox relay paused; will retry');
        break;
      }
    }
    return sent;
  }

  /**
   * Claims up to a batch of unsent rows for this relay. `SKIP LOCKED` passes over rows another
   * relay is claiming and rows whose writing transaction has not committed, so relays never wait
   * on each other or on writers (claiming with one bare UPDATE deadlocked under load), and READ
   * COMMITTED takes no gap locks that would hold up the services' inserts.
   */
  private async claimBatch(claimToken: string): Promise<OutboxRow[]> {
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const rows: OutboxRow[] = await manager.query(
        `SELECT id, event_id, event_type, payload FROM outbox
          WHERE ${CLAIMABLE}
          ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.length > 0) {
        await manager.query(
          `UPDATE outbox SET claim_token = ?, claimed_until = NOW(3) + INTERVAL ? MICROSECOND
            WHERE id IN (${rows.map(() => '?').join(',')})`,
          [claimToken, this.claimMs * 1000, ...rows.map((row) => row.id)],
        );
      }
      return rows;
    });
  }

  private async publishBatch(): Promise<number> {
    // A relay cut off from the broker claims nothing: other relays (or this one, later) publish.
    if (!this.broker.isConnected()) return 0;
    const claimToken = randomUUID();
    const rows = await this.claimBatch(claimToken);
    if (rows.length === 0) return 0;
    const sentIds: number[] = [];
    try {
      // Publish the batch concurrently: confirms come back in bulk.
      const results = await Promise.allSettled(
        rows.map((row) => this.publishEvent(row.event_id, row.event_type, row.payload)),
      );
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') sentIds.push(rows[index]!.id);
        else
          this.log.warn(
            { eventId: rows[index]!.event_id, err: errorMessage(result.reason) },
            'event not published',
          );
      });
    } finally {
      if (sentIds.length > 0) {
        await sqlQuery(
          this.dataSource,
          `UPDATE outbox SET sent_at = NOW(3) WHERE id IN (${sentIds.map(() => '?').join(',')})`,
          sentIds,
        );
      }
      // Rows that failed are released for the next pass, by primary key: a scan of the claim
      // index would take gap locks there and deadlock with the services' inserts.
      const failedIds = rows.map((row) => row.id).filter((id) => !sentIds.includes(id));
      if (failedIds.length > 0) {
        await sqlQuery(
          this.dataSource,
          `UPDATE outbox SET claimed_until = NULL WHERE id IN (${failedIds.map(() => '?').join(',')}) AND sent_at IS NULL`,
          failedIds,
        );
      }
    }
    this.published += sentIds.length;
    if (sentIds.length < rows.length) throw new Error(`${rows.length - sentIds.length} events not published`);
    return rows.length;
  }
}

/** MySQL/MariaDB's "Deadlock found when trying to get lock" (ER_LOCK_DEADLOCK). */
function isDeadlock(error: unknown): boolean {
  return (error as { errno?: number } | undefined)?.errno === 1213;
}

/** Rows written but not yet confirmed by the broker (the `outbox_unpublished` gauge). */
export async function countUnpublished(dataSource: DataSource): Promise<number> {
  const [row] = await dataSource.query('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL');
  return Number(row.n);
}
