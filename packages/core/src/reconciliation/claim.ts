/** The claim of one (provider, date) run: once across any number of instances, taken over when its holder died. */

import type { DataSource } from 'typeorm';
import { affectedRows } from '@payments/platform';

import type { RunOptions } from './types';

/** How long a claim holds before another instance may take over a run that died. */
const CLAIM_SECONDS = 15 * 60;

/**
 * Takes the run of (provider, date) for this process, or says it is someone else's (or done). A
 * RUNNING claim is taken over only once it lapsed (its holder died mid-run: every action is
 * idempotent, so the run starts again from the top).
 */
export async function claimRun(
  dataSource: DataSource,
  provider: string,
  date: string,
  owner: string,
  options: RunOptions = {},
): Promise<boolean> {
  await dataSource.query("INSERT IGNORE INTO recon_run (provider, bill_date, status) VALUES (?, ?, 'NEW')", [
    provider,
    date,
  ]);
  const claimed = await dataSource.query(
    `UPDATE recon_run SET status = 'RUNNING', claimed_by = ?, claimed_until = NOW(3) + INTERVAL ? SECOND
      WHERE provider = ? AND bill_date = ?
        AND (status <> 'RUNNING' OR claimed_until < NOW(3))
        AND (? = 0 OR status IN ('NEW', 'RUNNING')
             OR (status = 'FAILED' AND (retry_after IS NULL OR retry_after < NOW(3))))`,
    [owner, CLAIM_SECONDS, provider, date, options.daily ? 1 : 0],
  );
  return affectedRows(claimed) === 1;
}
