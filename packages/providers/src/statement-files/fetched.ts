/** A fetched statement as the seam wants it: its raw bytes spooled with their SHA-256, its lines read from them. */
import type { FetchedStatement, StatementLine, StatementSummary } from '@payments/core';
import { StatementUnavailableError } from '@payments/core';
import type { Spool } from './spool';

export function fetchedStatement(
  provider: string,
  date: string,
  raw: Spool,
  summary: StatementSummary | null,
  lines: () => AsyncIterable<StatementLine>,
): FetchedStatement {
  return {
    provider,
    date,
    raw,
    sha256: raw.sha256,
    summary,
    lines,
    dispose: () => raw.remove(),
  };
}

/** `YYYY-MM-DD`, a real day; a statement of anything else is refused before any call. */
export function billDate(date: string): string {
  const at = new Date(`${date}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(date) ||
    Number.isNaN(at.getTime()) ||
    at.toISOString().slice(0, 10) !== date
  )
    throw new RangeError(`not a date (YYYY-MM-DD): "${date}"`);
  return date;
}

/** Any failure while reading a statement's lines becomes the seam's UNREADABLE, saying where. */
export function unreadable(where: string, error: unknown): StatementUnavailableError {
  if (error instanceof StatementUnavailableError) return error;
  return new StatementUnavailableError(`${where}: ${(error as Error).message}`, 'UNREADABLE');
}
