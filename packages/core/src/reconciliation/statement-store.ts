/** The raw statement kept with its SHA-256, in chunks under the packet limit, so any day can be replayed. */

import type { DataSource } from 'typeorm';

import { type FetchedStatement } from './statement';

/** Raw bytes kept per chunk: well under max_allowed_packet once escaped (16 MiB by default), and little held while written. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Keeps the raw statement and its SHA-256 (once per content: the same bytes fetched again are not
 * stored twice), in chunks of 1 MiB written as they are read from the spool (one chunk held at a time), in
 * one transaction: a statement row always has all its chunks.
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
  const { raw } = statement;
  const chunks = Math.max(1, Math.ceil(raw.byteLength / CHUNK_BYTES));
  return dataSource.transaction(async (manager) => {
    const inserted = (await manager.query(
      'INSERT INTO recon_statement (provider, bill_date, sha256, byte_length, chunks) VALUES (?, ?, ?, ?, ?)',
      [statement.provider, statement.date, statement.sha256, raw.byteLength, chunks],
    )) as { insertId: number };
    let seq = 0;
    const write = (bytes: Buffer) =>
      manager.query('INSERT INTO recon_statement_chunk (statement_id, seq, bytes) VALUES (?, ?, ?)', [
        inserted.insertId,
        seq++,
        bytes,
      ]);
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let filled = 0;
    let length = 0;
    for await (const piece of raw.open()) {
      length += piece.length;
      for (let at = 0; at < piece.length;) {
        const taken = piece.copy(chunk, filled, at);
        filled += taken;
        at += taken;
        if (filled === CHUNK_BYTES) {
          await write(chunk);
          filled = 0;
        }
      }
    }
    if (filled > 0 || seq === 0) await write(chunk.subarray(0, filled));
    // The spool is the statement that was hashed: a different length is a broken spool, kept never.
    if (length !== raw.byteLength || seq !== chunks)
      throw new Error(
        `statement spool holds ${length} bytes in ${seq} chunks, ${raw.byteLength} were hashed`,
      );
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
