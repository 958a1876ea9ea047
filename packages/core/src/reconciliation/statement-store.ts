/** The raw statement kept with its SHA-256, in chunks under the packet limit, so any day can be replayed. */

import type { DataSource } from 'typeorm';

import { type FetchedStatement } from './statement';

/** Raw bytes kept per chunk: well under max_allowed_packet once escaped (16 MiB by default). */
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Keeps the raw statement and its SHA-256 (once per content: the same bytes fetched again are not
 * stored twice), in chunks, in one transaction: a statement row always has all its chunks.
 */
export async function keepStatement(dataSource: DataSource, statement: FetchedStatement): Promise<number> {
  const find = async () =>
    (
      (await dataSource.query(
        'SELECT id FROM recon_statement WHERE provider = ? AND bill_date = ? AND sha256 = ?',
        [statement.provider, statement.date, statement.sha256],
      )) as { id: number }[]
    )[0]?.id;
  const existing = await find();
  if (existing !== undefined) return Number(existing);
  const chunks = Math.max(1, Math.ceil(statement.raw.length / CHUNK_BYTES));
  return dataSource.transaction(async (manager) => {
    const inserted = (await manager.query(
      'INSERT INTO recon_statement (provider, bill_date, sha256, byte_length, chunks) VALUES (?, ?, ?, ?, ?)',
      [statement.provider, statement.date, statement.sha256, statement.raw.length, chunks],
    )) as { insertId: number };
    for (let seq = 0; seq < chunks; seq += 1)
      await manager.query('INSERT INTO recon_statement_chunk (statement_id, seq, bytes) VALUES (?, ?, ?)', [
        inserted.insertId,
        seq,
        statement.raw.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES),
      ]);
    return Number(inserted.insertId);
  });
}

/** A kept statement's raw bytes, for a replay. */
export async function keptStatementBytes(dataSource: DataSource, statementId: number): Promise<Buffer> {
  const rows = (await dataSource.query(
    'SELECT bytes FROM recon_statement_chunk WHERE statement_id = ? ORDER BY seq',
    [statementId],
  )) as { bytes: Buffer }[];
  return Buffer.concat(rows.map((row) => row.bytes));
}
