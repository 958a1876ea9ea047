/**
 * What a run writes for the lines it matched, once the statement is trusted: each matched attempt
 * and refund marked with the bill date (what "SUCCESS here, absent there" looks for), and the
 * differences earlier runs left as absent there RESOLVED when a statement has them after all.
 */

import type { DataSource } from 'typeorm';

import { type DifferenceKind } from './classify';
import type { Run } from './run-state';

/** Rows written per statement: a few hundred KiB of parameters. */
const ROWS_PER_WRITE = 10_000;

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Primary keys collected as they are found: 8 bytes each (a million in 8 MiB), never an array of objects. */
export class IdList {
  private ids = new Float64Array(1024);
  length = 0;

  push(id: number): void {
    if (this.length === this.ids.length) {
      const grown = new Float64Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[this.length++] = id;
  }

  /** The ids in slices of at most `size`. */
  *slices(size: number): Generator<number[]> {
    for (let at = 0; at < this.length; at += size)
      yield Array.from(this.ids.subarray(at, Math.min(this.length, at + size)));
  }
}

/** Matched attempts, by primary key, in one narrow row each (recon_attempt_match), never a rewrite of the attempt's row. */
export async function markAttempts(dataSource: DataSource, date: string, ids: IdList): Promise<void> {
  for (const slice of ids.slices(ROWS_PER_WRITE))
    await dataSource.query(
      `INSERT INTO recon_attempt_match (channel_order_id, bill_date) VALUES ${slice.map(() => '(?, ?)').join(', ')}
       ON DUPLICATE KEY UPDATE bill_date = VALUES(bill_date)`,
      slice.flatMap((id) => [id, date]),
    );
}

/** Matched refunds, by primary key (refunds are few: their own column). */
export async function markRefunds(dataSource: DataSource, date: string, ids: IdList): Promise<void> {
  for (const slice of ids.slices(ROWS_PER_WRITE))
    await dataSource.query(
      `UPDATE refund_order SET recon_date = ? WHERE id IN (${placeholders(slice.length)})
          AND (recon_date IS NULL OR recon_date <> ?)`,
      [date, ...slice, date],
    );
}

export interface OpenMissing {
  id: string;
  kind: 'MISSING_THERE' | 'REFUND_MISSING_THERE';
  reference: string;
  channel_order_no: string | null;
  amount: string;
  currency: string;
  detail: string;
  action: string;
}

/**
 * What earlier runs left waiting (PENDING) or flagged (OPEN) as absent there, by kind and
 * reference: a statement line matching one resolves it. Read once per run; anomalies are few.
 */
export async function openMissing(
  dataSource: DataSource,
  provider: string,
): Promise<Map<string, OpenMissing>> {
  const rows = (await dataSource.query(
    `SELECT id, kind, reference, channel_order_no, amount, currency, detail, action FROM recon_difference
      WHERE provider = ? AND status IN ('PENDING', 'OPEN') AND kind IN ('MISSING_THERE', 'REFUND_MISSING_THERE')`,
    [provider],
  )) as OpenMissing[];
  return new Map(rows.map((row) => [missingKey(row.kind, row.reference), row]));
}

export const missingKey = (kind: DifferenceKind, reference: string) => `${kind}\n${reference}`;

/** Differences absent there until now, found in this statement: RESOLVED. */
export async function resolveMissing(run: Run, dataSource: DataSource, found: OpenMissing[]): Promise<void> {
  for (let at = 0; at < found.length; at += ROWS_PER_WRITE) {
    const rows = found.slice(at, at + ROWS_PER_WRITE);
    await dataSource.query(
      `UPDATE recon_difference SET status = 'RESOLVED', resolved_at = NOW(3), last_bill_date = ?
        WHERE id IN (${placeholders(rows.length)}) AND status IN ('PENDING', 'OPEN')`,
      [run.date, ...rows.map((row) => row.id)],
    );
    for (const row of rows)
      run.differences.set(row.id, {
        id: row.id,
        kind: row.kind,
        status: 'RESOLVED',
        action: row.action,
        reference: row.reference,
        channelOrderNo: row.channel_order_no,
        amount: Number(row.amount),
        currency: row.currency,
        detail: row.detail,
        change: 'RESOLVED',
      });
  }
}
