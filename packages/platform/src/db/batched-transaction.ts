import type { DataSource } from 'typeorm';
import { acquireConnection } from './driver';

/** One SQL statement with its `?` parameters. */
export interface Statement {
  sql: string;
  params?: readonly unknown[];
}

/** Sends statements to the database, several in one round trip; resolves to each one's result. */
export type SendStatements = (
  statements: readonly Statement[],
  options?: { commit?: boolean },
) => Promise<unknown[]>;

/**
 * A transaction whose statements travel in batches, one round trip each (the connection allows
 * multiple statements; every value still goes through `?` placeholders). The first batch opens
 * the transaction (`START TRANSACTION` travels with it); `commit: true` closes it in the same
 * packet, so a transaction of writes that need no answer in between costs one round trip instead
 * of one per statement plus two. Without it, the transaction commits in a trip of its own when
 * `work` returns. A statement that fails stops the batch there (the server runs none after it)
 * and the transaction is rolled back, as is one whose `work` throws.
 *
 * On the hot paths (an apply, a settlement, a delivery) round trips are what the services and
 * MariaDB spend their CPU on: each is a wake-up on both sides.
 */
export async function batchedTransaction<T>(
  dataSource: DataSource,
  work: (send: SendStatements) => Promise<T>,
): Promise<T> {
  const connection = await acquireConnection(dataSource);
  let open = false;
  let committed = false;
  const send: SendStatements = async (statements, options = {}) => {
    if (committed) throw new Error('batchedTransaction: the transaction is committed already');
    const opening = !open;
    const sql = [
      ...(opening ? ['START TRANSACTION'] : []),
      ...statements.map((statement) => statement.sql),
      ...(options.commit ? ['COMMIT'] : []),
    ].join(';\n');
    open = true;
    const raw = await connection.query(
      sql,
      statements.flatMap((statement) => statement.params ?? []),
    );
    if (options.commit) committed = true;
    // One statement's result alone comes back bare; several come back as an array, one each.
    const sent = statements.length + (opening ? 1 : 0) + (options.commit ? 1 : 0);
    const results = sent > 1 ? (raw as unknown[]) : [raw];
    return results.slice(opening ? 1 : 0, (opening ? 1 : 0) + statements.length);
  };
  try {
    const result = await work(send);
    if (open && !committed) await connection.query('COMMIT', []);
    connection.release();
    return result;
  } catch (error) {
    // A batch stopped by a failed statement leaves its transaction open on the connection: roll
    // it back, or close the connection if even that fails, so the pool never hands it on open.
    if (!open || committed) connection.release();
    else
      await connection.query('ROLLBACK', []).then(
        () => connection.release(),
        () => connection.destroy(),
      );
    throw error;
  }
}

/**
 * A statement that fails its batch unless the statement just before it changed exactly one row
 * (`ROW_COUNT()`): a compare-and-set checked by the server, so a batch can carry its `COMMIT` too.
 * When the row was not found as expected, the server runs nothing after it (the `COMMIT`
 * included), the transaction is rolled back, and the batch rejects with an error that
 * `isOneRowRequired` tells (a scalar subquery of two rows: MySQL and MariaDB alike, no stored code).
 */
export function requireOneRowChanged(): Statement {
  return { sql: 'SELECT (SELECT 1 UNION ALL SELECT 1 FROM DUAL WHERE ROW_COUNT() <> 1) AS one_row_changed' };
}

/** The rejection of a batch stopped by `requireOneRowChanged` (ER_SUBQUERY_NO_1_ROW). */
export function isOneRowRequired(error: unknown): boolean {
  return (error as { errno?: number } | undefined)?.errno === 1242;
}
