import type { DataSource } from 'typeorm';

type Done<T> = (error: Error | null, result: T) => void;

/** mysql2's own pooled connection beneath TypeORM's driver: the calls we make on it. */
export interface DriverConnection {
  query(sql: string, values: unknown[], done: Done<unknown>): void;
  release(): void;
  destroy(): void;
}

/** mysql2's own (callback) pool that TypeORM's MySQL driver opens and closes. */
interface DriverPool {
  query(sql: string, values: unknown[], done: Done<unknown>): void;
  getConnection(done: Done<DriverConnection>): void;
}

function driverPool(dataSource: DataSource): DriverPool {
  const pool = (dataSource.driver as unknown as { pool?: DriverPool }).pool;
  if (!pool) throw new Error('the data source is not initialized');
  return pool;
}

/**
 * One query on the data source's pool, as `dataSource.query` does, without TypeORM's work around
 * it: a query runner, before and after events, a result wrapper, and mysql2's promise wrapper,
 * which resolves a `require` on every query (5 % of the gateway's CPU in the bench's profile). For
 * the hot paths; errors are mysql2's own (the same `code` and `errno`), results are its rows or
 * its result header.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows or a result header, as TypeORM's `query` gives
export function sqlQuery<T = any>(
  dataSource: DataSource,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T> {
  return new Promise((resolve, reject) =>
    driverPool(dataSource).query(sql, [...params], (error, result) =>
      error ? reject(error) : resolve(result as T),
    ),
  );
}

/** A connection of the data source's pool, on its own (see `sqlQuery`): release or destroy it. */
export interface PooledConnection {
  query(sql: string, params: readonly unknown[]): Promise<unknown>;
  /** Back to the pool, for a connection with no transaction open. */
  release(): void;
  /** Closed, never reused: for one whose state is unknown (a ROLLBACK that failed). */
  destroy(): void;
}

export async function acquireConnection(dataSource: DataSource): Promise<PooledConnection> {
  const connection = await new Promise<DriverConnection>((resolve, reject) =>
    driverPool(dataSource).getConnection((error, acquired) => (error ? reject(error) : resolve(acquired))),
  );
  return {
    query: (sql, params) =>
      new Promise((resolve, reject) =>
        connection.query(sql, [...params], (error, result) => (error ? reject(error) : resolve(result))),
      ),
    release: () => connection.release(),
    destroy: () => connection.destroy(),
  };
}
