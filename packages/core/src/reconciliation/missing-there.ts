/**
 * SUCCESS here, absent there: what we hold of a provider that no statement has matched, found once
 * every line of a statement was matched.
 */

import type { DataSource } from 'typeorm';

import { dayBounds, previousDay } from './bill-days';
import type { Run } from './run-state';

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
/** Attempts read per round trip once found unmatched. */
const ROWS_PER_READ = 5000;

interface UnmatchedAttempt {
  channel_order_no: string;
  amount: string;
  currency: string;
  settled_at: Date;
}

/**
 * Our SUCCESS attempts settled in [from, end) of these channels without a match. In two steps: the
 * unmatched ones' keys from the (status, settled_at) index alone against the narrow match table
 * (a day of a million matched attempts: no attempt row read), then the rows of those few.
 */
async function unmatchedAttempts(
  dataSource: DataSource,
  channels: string[],
  from: Date,
  end: Date,
): Promise<UnmatchedAttempt[]> {
  const ids = (
    (await dataSource.query(
      `SELECT c.id FROM channel_order c FORCE INDEX (ix_channel_order_status_settled)
         LEFT JOIN recon_attempt_match m ON m.channel_order_id = c.id
        WHERE c.status = 'SUCCESS' AND c.settled_at >= ? AND c.settled_at < ? AND m.channel_order_id IS NULL`,
      [from, end],
    )) as { id: string | number }[]
  ).map((row) => Number(row.id));
  const rows: UnmatchedAttempt[] = [];
  for (let at = 0; at < ids.length; at += ROWS_PER_READ) {
    const slice = ids.slice(at, at + ROWS_PER_READ);
    rows.push(
      ...((await dataSource.query(
        `SELECT channel_order_no, amount, currency, settled_at FROM channel_order
          WHERE id IN (${placeholders(slice.length)}) AND channel IN (${placeholders(channels.length)})
          ORDER BY id`,
        [...slice, ...channels],
      )) as UnmatchedAttempt[]),
    );
  }
  return rows;
}

export async function findMissingThere(
  run: Run,
  dataSource: DataSource,
  channels: string[],
  timeZone: string,
) {
  if (channels.length === 0) return;
  const from = dayBounds(previousDay(run.date), timeZone).start;
  const { start, end } = dayBounds(run.date, timeZone);
  for (const row of await unmatchedAttempts(dataSource, channels, from, end)) {
    const final = new Date(row.settled_at) < start;
    await run.record({
      kind: 'MISSING_THERE',
      reference: row.channel_order_no,
      channelOrderNo: row.channel_order_no,
      status: final ? 'OPEN' : 'PENDING',
      action: final ? 'ANOMALY' : 'WAIT_NEXT_STATEMENT',
      amount: Number(row.amount),
      currency: row.currency,
      detail: `SUCCESS here (settled ${new Date(row.settled_at).toISOString()}), absent from the statement${final ? 's of that day and the next' : " (grace: the next day's statement)"}`,
    });
  }
  const refunds = (await dataSource.query(
    `SELECT refund_no, channel_order_no, amount, currency, finished_at FROM refund_order
      WHERE status = 'SUCCESS' AND recon_date IS NULL AND settled_manually_at IS NULL
        AND finished_at >= ? AND finished_at < ? AND channel IN (${placeholders(channels.length)})`,
    [from, end, ...channels],
  )) as {
    refund_no: string;
    channel_order_no: string;
    amount: string;
    currency: string;
    finished_at: Date;
  }[];
  for (const row of refunds) {
    const final = new Date(row.finished_at) < start;
    await run.record({
      kind: 'REFUND_MISSING_THERE',
      reference: row.refund_no,
      channelOrderNo: row.channel_order_no,
      status: final ? 'OPEN' : 'PENDING',
      action: final ? 'ANOMALY' : 'WAIT_NEXT_STATEMENT',
      amount: Number(row.amount),
      currency: row.currency,
      detail: `refund SUCCESS here, absent from the statement${final ? 's of that day and the next' : " (grace: the next day's statement)"}`,
    });
  }
}
