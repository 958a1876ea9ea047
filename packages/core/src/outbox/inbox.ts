import type { EntityManager } from 'typeorm';
import { affectedRows } from '@payments/platform';

/** Records that `consumer` handled `eventId`; false if it already had. Call inside the handler's transaction. */
export async function rememberEvent(
  manager: EntityManager,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const result = await manager.query('INSERT IGNORE INTO inbox (consumer, event_id) VALUES (?, ?)', [
    consumer,
    eventId,
  ]);
  return affectedRows(result) === 1;
}
