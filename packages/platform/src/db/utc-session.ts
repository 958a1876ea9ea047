import type { EventEmitter } from 'node:events';
import mysql2 from 'mysql2';
import { createConnection, type Connection, type ConnectionOptions } from 'mysql2/promise';

/**
 * Every session runs in UTC. We write DATETIME columns as UTC (mysql2's `timezone: 'Z'` converts
 * our Dates), and SQL compares them with `NOW(3)`, fills them with `CURRENT_TIMESTAMP(3)` and
 * reads them with `UNIX_TIMESTAMP`, all of which are in the *session's* time zone, which is the
 * server's unless set: on a server at UTC+8, an order expiring in ten minutes is "expired" at once
 * and every new attempt is overdue. `timezone: 'Z'` alone converts, it does not set the session.
 */
export const UTC_SESSION_SQL = "SET time_zone = '+00:00'";

/**
 * What the pools' `connection` event hands over: mysql2's own (callback) connection, from the
 * promise pool too (it forwards its core pool's event; its typings say a promise connection).
 */
interface NewConnection {
  query(sql: string, done: (error: Error | null) => void): unknown;
  destroy(): void;
}

/**
 * Pins every new connection of a mysql2 pool (callback or promise) to UTC. mysql2 has no init-SQL
 * option; its pool emits `connection` before it hands a new connection to anyone, and a
 * connection runs its commands in order, so the SET runs before the first query on it. A
 * connection whose SET fails is closed: nothing runs on it in another time zone.
 */
export function pinPoolToUtc<Pool extends EventEmitter>(pool: Pool): Pool {
  pool.on('connection', (connection: NewConnection) => {
    connection.query(UTC_SESSION_SQL, (error) => {
      if (error) connection.destroy();
    });
  });
  return pool;
}

/**
 * mysql2 as TypeORM's MySQL driver takes it (its `driver` option): the same module, whose pools
 * are pinned to UTC from their first connection on (TypeORM opens one while it initializes).
 */
export const utcMysql2: typeof mysql2 = Object.assign(Object.create(mysql2) as typeof mysql2, {
  createPool: ((options: mysql2.PoolOptions) =>
    pinPoolToUtc(mysql2.createPool(options))) as typeof mysql2.createPool,
});

/** One mysql2 (promise) connection of our own, in UTC like the pools (see `UTC_SESSION_SQL`). */
export async function connectInUtc(options: ConnectionOptions): Promise<Connection> {
  const connection = await createConnection({ ...options, timezone: 'Z' });
  try {
    await connection.query(UTC_SESSION_SQL);
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}
