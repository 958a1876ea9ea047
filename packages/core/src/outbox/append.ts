import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Statement } from '@payments/platform';
import type { EventData, EventEnvelope, EventType } from '../contracts';

export function newEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  occurredAt = new Date(),
): EventEnvelope<T> {
  return { eventId: randomUUID(), type, occurredAt: occurredAt.toISOString(), data };
}

/**
 * How long rows that their writer publishes itself (`OutboxRelay.publishCommitted`) are held from
 * the claiming relays: past it, a writer that died or could not publish is replaced by them.
 */
export const WRITER_PUBLISH_HOLD_MS = 5000;

export interface AppendOptions {
  /** The writer will publish these events itself right after its commit (the fast path). */
  publishAfterCommit?: boolean;
}

/** One event's outbox values: held from the claiming relays when its writer publishes it. */
function outboxValues(event: EventEnvelope, options: AppendOptions): { sql: string; params: unknown[] } {
  const held = options.publishAfterCommit === true;
  return {
    sql: held ? '?, ?, ?, NOW(3) + INTERVAL ? MICROSECOND' : '?, ?, ?, NULL',
    params: [
      event.eventId,
      event.type,
      JSON.stringify(event),
      ...(held ? [WRITER_PUBLISH_HOLD_MS * 1000] : []),
    ],
  };
}

/** The INSERT of `events` into the outbox (for a batch of `batchedTransaction`); see `appendToOutbox`. */
export function outboxInsert(events: readonly EventEnvelope[], options: AppendOptions = {}): Statement {
  const rows = events.map((event) => outboxValues(event, options));
  return {
    sql: `INSERT INTO outbox (event_id, event_type, payload, claimed_until) VALUES ${rows.map((row) => `(${row.sql})`).join(', ')}`,
    params: rows.flatMap((row) => row.params),
  };
}

/**
 * The INSERT of one event, written only if the statement before it in the batch changed exactly
 * one row (`ROW_COUNT()`): a conditional update and its event in one round trip.
 */
export function outboxInsertIfOneRowChanged(event: EventEnvelope, options: AppendOptions = {}): Statement {
  const row = outboxValues(event, options);
  return {
    sql: `INSERT INTO outbox (event_id, event_type, payload, claimed_until)
          SELECT ${row.sql} FROM DUAL WHERE ROW_COUNT() = 1`,
    params: row.params,
  };
}

/** Writes events in the caller's transaction: no state change without its event. */
export async function appendToOutbox(
  manager: EntityManager,
  events: EventEnvelope[],
  options: AppendOptions = {},
): Promise<void> {
  if (events.length === 0) return;
  const insert = outboxInsert(events, options);
  await manager.query(insert.sql, insert.params as unknown[]);
}
