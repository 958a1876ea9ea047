import { randomUUID } from 'node:crypto';
import {
  batchedTransaction,
  insertId,
  isOneRowRequired,
  requireOneRowChanged,
  type DataSource,
  type Statement,
} from '@payments/platform';
import { openDataSource } from '@payments/core';
import { createTestEnv, type TestEnv } from '@payments/testkit';

/** An outbox row, as any table would do: `event_id` is unique, so a repeat fails. */
function outboxRow(eventId: string): Statement {
  return {
    sql: 'INSERT INTO outbox (event_id, event_type, payload) VALUES (?, ?, ?)',
    params: [eventId, 'test.batched', '{}'],
  };
}

describe('batchedTransaction (real MariaDB)', () => {
  let env: TestEnv;
  let dataSource: DataSource;
  /** Round trips made on pooled connections. */
  let trips = 0;

  beforeAll(async () => {
    env = await createTestEnv();
    dataSource = await openDataSource(env.config.DATABASE_URL, { poolSize: 2 });
    // Every round trip is one `query` on a pooled connection of mysql2's pool beneath TypeORM.
    type Connection = { query: (...args: unknown[]) => void };
    type Done = (error: Error | null, connection: Connection) => void;
    const pool = (dataSource.driver as unknown as { pool: { getConnection: (done: Done) => void } }).pool;
    const getConnection = pool.getConnection.bind(pool);
    const counted = new WeakSet<Connection>();
    pool.getConnection = (done: Done) =>
      getConnection((error, connection) => {
        if (connection && !counted.has(connection)) {
          counted.add(connection);
          const query = connection.query.bind(connection);
          connection.query = (...args: unknown[]) => {
            trips += 1;
            return query(...args);
          };
        }
        done(error, connection);
      });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await env?.cleanup();
  });
  beforeEach(() => (trips = 0));

  const rowsOf = async (...eventIds: string[]) =>
    (
      await dataSource.query(
        `SELECT event_id FROM outbox WHERE event_id IN (${eventIds.map(() => '?').join(',')})`,
        eventIds,
      )
    ).length;

  it('opens, writes and commits in one round trip, with each statement’s own result', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const results = await batchedTransaction(dataSource, (send) =>
      send([outboxRow(a), outboxRow(b)], { commit: true }),
    );
    expect(trips).toBe(1);
    expect(results).toHaveLength(2);
    expect(insertId(results[1])).toBe(insertId(results[0]) + 1);
    expect(await rowsOf(a, b)).toBe(2);
  });

  it('a statement that fails stops its batch and rolls back what came before it', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await dataSource.query(outboxRow(b).sql, outboxRow(b).params as unknown[]);
    const third = randomUUID();
    await expect(
      batchedTransaction(dataSource, (send) =>
        send([outboxRow(a), outboxRow(b), outboxRow(third)], { commit: true }),
      ),
    ).rejects.toThrow(/Duplicate entry/);
    expect(await rowsOf(a, third)).toBe(0);
    // The connection went back to the pool with no transaction open: both pool connections still
    // commit on their own.
    const [c, d] = [randomUUID(), randomUUID()];
    await Promise.all(
      [c, d].map((id) => dataSource.query(outboxRow(id).sql, outboxRow(id).params as unknown[])),
    );
    const [open] = await dataSource.query('SELECT @@in_transaction AS open');
    expect(Number(open.open)).toBe(0);
    expect(await rowsOf(c, d)).toBe(2);
  });

  it('reads in one batch, decides, and writes in the next; work that throws rolls it all back', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const seen = await batchedTransaction(dataSource, async (send) => {
      const [inserted, selected] = await send([
        outboxRow(a),
        { sql: 'SELECT event_id FROM outbox WHERE event_id = ?', params: [a] },
      ]);
      expect(insertId(inserted)).toBeGreaterThan(0);
      await send([outboxRow(b)]);
      return selected as { event_id: string }[];
    });
    expect(seen).toEqual([{ event_id: a }]);
    expect(trips).toBe(3); // two batches, then the COMMIT of its own
    expect(await rowsOf(a, b)).toBe(2);

    const [e, f] = [randomUUID(), randomUUID()];
    await expect(
      batchedTransaction(dataSource, async (send) => {
        await send([outboxRow(e)]);
        await send([outboxRow(f)]);
        throw new Error('changed its mind');
      }),
    ).rejects.toThrow('changed its mind');
    expect(await rowsOf(e, f)).toBe(0);
  });

  it('refuses a batch after the commit', async () => {
    await expect(
      batchedTransaction(dataSource, async (send) => {
        await send([outboxRow(randomUUID())], { commit: true });
        await send([outboxRow(randomUUID())]);
      }),
    ).rejects.toThrow(/committed already/);
  });

  it('a compare-and-set checked by the server commits in the same round trip, or stops and rolls back', async () => {
    const [kept, a, b] = [randomUUID(), randomUUID(), randomUUID()];
    await dataSource.query(outboxRow(kept).sql, outboxRow(kept).params as unknown[]);
    const markSent = (eventId: string): Statement => ({
      sql: 'UPDATE outbox SET sent_at = NOW(3) WHERE event_id = ? AND sent_at IS NULL',
      params: [eventId],
    });
    // Found as expected: the batch goes on and commits, one round trip in all.
    trips = 0;
    await batchedTransaction(dataSource, (send) =>
      send([outboxRow(a), markSent(kept), requireOneRowChanged()], { commit: true }),
    );
    expect(trips).toBe(1);
    expect(await rowsOf(a)).toBe(1);

    // Changed meanwhile (sent already): nothing after the check runs, the COMMIT included, and
    // what came before it is rolled back.
    const [c, d] = [randomUUID(), randomUUID()];
    const failed = await batchedTransaction(dataSource, (send) =>
      send([outboxRow(b), markSent(kept), requireOneRowChanged(), outboxRow(c)], { commit: true }),
    ).catch((error: unknown) => error);
    expect(isOneRowRequired(failed)).toBe(true);
    expect(await rowsOf(b, c)).toBe(0);
    // A row not there at all fails it the same way.
    await expect(
      batchedTransaction(dataSource, (send) =>
        send([outboxRow(d), markSent(randomUUID()), requireOneRowChanged()], { commit: true }),
      ),
    ).rejects.toThrow(/more than 1 row/);
    expect(await rowsOf(d)).toBe(0);
    const [open] = await dataSource.query('SELECT @@in_transaction AS open');
    expect(Number(open.open)).toBe(0);
  });
});
