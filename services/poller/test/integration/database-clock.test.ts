import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createConnection, createPool } from 'mysql2/promise';
import { connectInUtc, pinPoolToUtc, sqlQuery, type DataSource } from '@payments/platform';
import { migrate, openDataSource } from '@payments/core';
import { eventually } from '@payments/testkit';
import { AttemptRepository } from '../../src/adapters/attempt-repository';

/** A port nothing listens on now. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/**
 * A MariaDB of its own whose clock is UTC+8 (issue 27.2): the shared one runs at UTC, where a
 * session left in the server's time zone cannot be told from one pinned to UTC.
 */
async function startMariadbAtUtcPlus8(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  for (const binary of ['mariadbd', 'mariadb-install-db'])
    if (spawnSync('which', [binary]).status !== 0)
      throw new Error(`${binary} not found: this test starts a MariaDB of its own (install mariadb-server)`);
  const dir = mkdtempSync(join(tmpdir(), 'clock-db-'));
  const user = userInfo().username;
  const installed = spawnSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${dir}/data`,
      '--auth-root-authentication-method=normal',
      `--user=${user}`,
      '--skip-test-db',
    ],
    { encoding: 'utf8' },
  );
  if (installed.status !== 0) throw new Error(`mariadb-install-db failed: ${installed.stderr}`);
  const port = await freePort();
  const server: ChildProcess = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${dir}/data`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${dir}/s`,
      `--pid-file=${dir}/pid`,
      '--default-time-zone=+08:00',
      `--user=${user}`,
      '--skip-log-bin',
      '--innodb-buffer-pool-size=32M',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      'the second MariaDB to take connections',
      async () => {
        const probe = await createConnection({ host: '127.0.0.1', port, user: 'root' });
        await probe.end();
        return true;
      },
      10_000,
      100,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `mysql://root@127.0.0.1:${port}/payments_clock`, port, stop };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe('the database clock: every session is UTC, on a server whose default time zone is +08:00', () => {
  let server: Awaited<ReturnType<typeof startMariadbAtUtcPlus8>>;
  let dataSource: DataSource;
  let attempts: AttemptRepository;

  beforeAll(async () => {
    server = await startMariadbAtUtcPlus8();
    await migrate(server.url);
    dataSource = await openDataSource(server.url, { poolSize: 4 });
    attempts = new AttemptRepository(dataSource);
  }, 30_000);
  afterAll(async () => {
    await dataSource?.destroy();
    await server?.stop();
  });

  /** An order (and optionally one attempt), written as the gateway does: our Dates, as UTC. */
  const order = async (expiresInMs: number, attempt?: { nextPollInMs: number }) => {
    const no = `clock-${randomBytes(4).toString('hex')}`;
    const expireAt = new Date(Date.now() + expiresInMs);
    const { insertId } = await sqlQuery(
      dataSource,
      `INSERT INTO pay_order (pay_order_no, merchant_order_no, amount, currency, subject, status, expire_at)
       VALUES (?, ?, 100, 'CNY', 'clock', ?, ?)`,
      [`po_${no}`, no, attempt ? 'PAYING' : 'UNPAID', expireAt],
    );
    if (attempt)
      await sqlQuery(
        dataSource,
        `INSERT INTO channel_order (channel_order_no, pay_order_id, merchant_order_no, channel, amount, currency,
           status, inflight_key, expire_at, next_poll_at, created_at)
         VALUES (?, ?, ?, 'sandbox-wallet', 100, 'CNY', 'PAYING', ?, ?, ?, ?)`,
        [
          `co_${no}`,
          insertId,
          no,
          `${insertId}:sandbox-wallet`,
          expireAt,
          new Date(Date.now() + attempt.nextPollInMs),
          new Date(),
        ],
      );
    return { no, id: Number(insertId), channelOrderNo: `co_${no}` };
  };

  it('the server is at +08:00 (else nothing below proves anything)', async () => {
    const [row] = await dataSource.query('SELECT @@global.time_zone AS zone');
    expect(row.zone).toBe('+08:00');
  });

  it("every pooled connection's session is UTC: sqlQuery, TypeORM's query runner, a transaction", async () => {
    // More at once than the pool holds, so every one of its connections is opened and asked.
    const zones = await Promise.all(
      Array.from({ length: 8 }, () =>
        sqlQuery(dataSource, 'SELECT @@session.time_zone AS zone, SLEEP(0.05) AS slept'),
      ),
    );
    expect(new Set(zones.map(([row]: { zone: string }[]) => row!.zone))).toEqual(new Set(['+00:00']));
    expect((await dataSource.query('SELECT @@session.time_zone AS zone'))[0].zone).toBe('+00:00');
    await dataSource.transaction(async (manager) =>
      expect((await manager.query('SELECT @@session.time_zone AS zone'))[0].zone).toBe('+00:00'),
    );
  });

  it('an order expiring in 10 minutes is not among the expired idle orders; one expired a minute ago is', async () => {
    const live = await order(10 * MINUTE);
    const expired = await order(-MINUTE);
    const found = (await attempts.expiredIdleOrders(1000)).map((row) => row.merchant_order_no);
    expect(found).toContain(expired.no);
    expect(found).not.toContain(live.no);
  });

  it('a fresh attempt is not overdue; one whose poll is 10 s late is', async () => {
    const fresh = await order(10 * MINUTE, { nextPollInMs: 3 * SECOND });
    const late = await order(10 * MINUTE, { nextPollInMs: -10 * SECOND });
    const overdue = (await attempts.overdue(2 * SECOND, 1000)).map((row) => row.channel_order_no);
    expect(overdue).toContain(late.channelOrderNo);
    expect(overdue).not.toContain(fresh.channelOrderNo);
    // The age of the oldest attempt in flight, by NOW(3) against a created_at we wrote: seconds, not 8 h.
    expect(await attempts.oldestInflightAgeSeconds()).toBeLessThan(60);
  });

  it('columns written by NOW(3) and CURRENT_TIMESTAMP(3) read back as now', async () => {
    const written = await order(10 * MINUTE, { nextPollInMs: 3 * SECOND });
    const attempt = (await attempts.find(written.channelOrderNo))!;
    expect(await attempts.claimNextPoll(attempt.id, 0, 5 * SECOND)).toBe(true);
    const [row] = await dataSource.query(
      'SELECT c.next_poll_at, p.created_at FROM channel_order c JOIN pay_order p ON p.id = c.pay_order_id WHERE c.id = ?',
      [attempt.id],
    );
    expect(Math.abs(new Date(row.next_poll_at).getTime() - (Date.now() + 5 * SECOND))).toBeLessThan(
      5 * SECOND,
    );
    expect(Math.abs(new Date(row.created_at).getTime() - Date.now())).toBeLessThan(5 * SECOND);
  });

  it('raw mysql2 connections of our own are UTC too: connectInUtc, and a pool through pinPoolToUtc', async () => {
    const connection = await connectInUtc({ host: '127.0.0.1', port: server.port, user: 'root' });
    try {
      const [[row]] = (await connection.query('SELECT @@session.time_zone AS zone')) as unknown as [
        { zone: string }[],
      ];
      expect(row!.zone).toBe('+00:00');
    } finally {
      await connection.end();
    }
    const pool = pinPoolToUtc(
      createPool({ host: '127.0.0.1', port: server.port, user: 'root', connectionLimit: 3 }),
    );
    try {
      const zones = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const [[row]] = (await pool.query(
            'SELECT @@session.time_zone AS zone, SLEEP(0.05) AS slept',
          )) as unknown as [{ zone: string }[]];
          return row!.zone;
        }),
      );
      expect(new Set(zones)).toEqual(new Set(['+00:00']));
    } finally {
      await pool.end();
    }
  });
});
