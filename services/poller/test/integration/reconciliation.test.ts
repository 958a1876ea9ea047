import { createLogger, createProviders } from '@payments/providers';
import { createRegistry, type DataSource } from '@payments/platform';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  keptStatementBytes,
  openDataSource,
  runReconciliation,
  type FetchedStatement,
  type PaymentProvider,
  type RunReport,
  type StatementLine,
} from '@payments/core';
import { eventually } from '@payments/testkit';
import { api, applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';
import { payctl } from '../../../../test/support/payctl';

/**
 * Reconciliation against the sandbox PSP's statement (CONTRACT 11, issue 29), through the real
 * gateway stack: no poller runs, so a payment whose every notification is dropped is lost until
 * the statement finds it.
 */
describe('reconciliation: the statement finds what every answer lost (real servers)', () => {
  const stack = new GatewayStack();
  let url: string;
  let dataSource: DataSource;
  let provider: PaymentProvider;
  const today = new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    await stack.start({ REFUND_POLL_SCHEDULE: '200ms,500ms,1s', SWEEP_INTERVAL: '1s' });
    url = (await stack.startGateway()).url;
    await stack.startNotifier();
    await stack.startRefunder();
    await stack.listenToEvents();
    const config = stack.serviceConfig();
    const log = createLogger('recon-test', 'silent');
    provider = createProviders(config, createRegistry('recon-test'), log).providers.find(
      (candidate) => candidate.name === 'sandbox',
    )!;
    dataSource = await openDataSource(config.DATABASE_URL, { poolSize: 2 });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await stack.stop();
  });
  afterEach(async () => {
    await stack.setPspFaults(undefined);
    await statementFaults(undefined);
  });

  const statementFaults = async (faults: Record<string, boolean> | undefined) => {
    await fetch(`${stack.pspUrl}/sandbox/statement-faults`, { method: 'DELETE' });
    if (faults)
      await fetch(`${stack.pspUrl}/sandbox/statement-faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
  };
  const run = async (over: PaymentProvider = provider): Promise<RunReport> =>
    (await runReconciliation(
      { dataSource, provider: over, log: createLogger('recon-test', 'silent') },
      today,
    ))!;
  /** The spool files of the sandbox's statement of today left in the temporary directory. */
  const spooled = () =>
    readdirSync(tmpdir()).filter((name) => name.startsWith(`statement-sandbox-${today}-`));
  /**
   * The sandbox provider, its fetched statements collected (each checked to be spooled to a file),
   * their lines read through `lines` (`pass`: how many times the statement's lines were read).
   */
  const watched = (
    fetched: FetchedStatement[],
    lines: (statement: FetchedStatement, pass: number) => AsyncIterable<StatementLine> = (statement) =>
      statement.lines(),
  ): PaymentProvider =>
    Object.assign(Object.create(provider) as PaymentProvider, {
      statements: {
        timeZone: provider.statements!.timeZone,
        fetchStatement: async (date: string) => {
          const statement = await provider.statements!.fetchStatement(date);
          expect(existsSync(statement.raw.path)).toBe(true);
          fetched.push(statement);
          let pass = 0;
          return { ...statement, lines: () => lines(statement, (pass += 1)) };
        },
      },
    });
  const payment = async (no: string) => (await api(url, 'GET', `/v1/payments/${no}`)).body;
  const differenceOf = (report: RunReport, reference: string) =>
    report.differences.filter((difference) => difference.reference === reference);

  /** Applied and paid at the PSP with every notification dropped, and no poller: lost to us. */
  const lostPayment = async (label: string, overrides: Record<string, unknown> = {}) => {
    const no = orderNo(label);
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no, overrides));
    const channelOrderNo = applied.body.attempt.channelOrderNo as string;
    await stack.setPspFaults({ dropNotifyRate: 1 });
    expect(await stack.pay(channelOrderNo)).toBe(200);
    return { no, channelOrderNo };
  };

  const paidNormally = async (label: string) => {
    const no = orderNo(label);
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    const channelOrderNo = applied.body.attempt.channelOrderNo as string;
    expect(await stack.pay(channelOrderNo)).toBe(200);
    await eventually('PAID', async () => (await payment(no)).status === 'PAID');
    return { no, channelOrderNo };
  };

  it('a payment whose every notification and poll were lost is found, settled and notified', async () => {
    const { no, channelOrderNo } = await lostPayment('lost');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await payment(no)).status).toBe('PAYING');

    const report = await run();
    expect(differenceOf(report, channelOrderNo)).toEqual([
      expect.objectContaining({
        kind: 'PAID_THERE_NOT_HERE',
        status: 'ACTED',
        action: 'SETTLED_KEPT',
        change: 'NEW',
      }),
    ]);
    expect((await payment(no)).status).toBe('PAID');
    await eventually(
      'the order service told',
      async () => (await stack.merchantOrder(no))?.status === 'PAID',
    );
    expect((await stack.merchantOrder(no))!.distinctEvents).toBe(1);
    // The statement is kept raw: its chunks are the bytes of its SHA-256.
    const [kept] = (await stack.query(
      "SELECT statement_id FROM recon_run WHERE provider = 'sandbox' AND bill_date = ?",
      [today],
    )) as { statement_id: number }[];
    const bytes = await keptStatementBytes(dataSource, kept!.statement_id);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(report.sha256);
    expect(bytes.toString('utf8')).toContain(channelOrderNo);
    // Found by reconciliation: counted as such, and the bridge explains every line.
    for (const bridge of report.bridges) expect(bridge.residual).toBe(0);
    expect(
      report.bridges.find((bridge) => bridge.currency === 'CNY')!.explained.PAID_THERE_NOT_HERE,
    ).toBeGreaterThan(0);
  });

  it('an extra payment found by the statement is refunded, never the one kept', async () => {
    const no = orderNo('extra');
    const voucher = (await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-voucher' })))
      .body.attempt.channelOrderNo as string;
    const wallet = (await api(url, 'POST', '/v1/payments', applyBody(no))).body.attempt
      .channelOrderNo as string;
    expect(await stack.pay(wallet)).toBe(200);
    await eventually('PAID', async () => (await payment(no)).status === 'PAID');
    await stack.setPspFaults({ dropNotifyRate: 1 });
    expect(await stack.pay(voucher)).toBe(200);

    const report = await run();
    expect(differenceOf(report, voucher)).toEqual([
      expect.objectContaining({
        kind: 'PAID_THERE_NOT_HERE',
        status: 'ACTED',
        action: 'SETTLED_EXTRA_REFUNDING',
      }),
    ]);
    await eventually(
      'the voucher refunded at the PSP',
      async () =>
        (await stack.ledger(no)).refunds.some((r) => r.channelOrderNo === voucher && r.status === 'SUCCESS'),
      15_000,
    );
    const ledger = await stack.ledger(no);
    expect(ledger.refunds.filter((r) => r.channelOrderNo === wallet)).toEqual([]);
    expect((await payment(no)).status).toBe('PAID');
  });

  it("a refund made at the PSP's portal is recorded as made outside, once", async () => {
    const { channelOrderNo } = await paidNormally('portal');
    const made = await fetch(`${stack.pspUrl}/sandbox/trades/${channelOrderNo}/portal-refund`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 250 }),
    });
    expect(made.status).toBe(200);
    const refundNo = ((await made.json()) as { refundNo: string }).refundNo;

    const report = await run();
    expect(differenceOf(report, refundNo)).toEqual([
      expect.objectContaining({
        kind: 'REFUND_MADE_OUTSIDE',
        status: 'ACTED',
        action: 'RECORDED_OUTSIDE',
        amount: 250,
        channelOrderNo,
      }),
    ]);
    // Recorded, not asked for: no refund of ours was made for it.
    expect(
      await stack.query('SELECT * FROM refund_order WHERE channel_order_no = ?', [channelOrderNo]),
    ).toEqual([]);
  });

  it('a SUCCESS we hold that the statement lacks is an anomaly, pending first, never refunded', async () => {
    // Two attempts SUCCESS here that the PSP never took: one settled yesterday, one today.
    const yesterday = (await api(url, 'POST', '/v1/payments', applyBody(orderNo('ghost1')))).body.attempt
      .channelOrderNo as string;
    const todays = (await api(url, 'POST', '/v1/payments', applyBody(orderNo('ghost2')))).body.attempt
      .channelOrderNo as string;
    await stack.query(
      "UPDATE channel_order SET status = 'SUCCESS', inflight_key = NULL, settled_at = NOW(3) - INTERVAL 1 DAY WHERE channel_order_no = ?",
      [yesterday],
    );
    await stack.query(
      "UPDATE channel_order SET status = 'SUCCESS', inflight_key = NULL, settled_at = NOW(3) WHERE channel_order_no = ?",
      [todays],
    );

    const report = await run();
    expect(differenceOf(report, yesterday)).toEqual([
      expect.objectContaining({ kind: 'MISSING_THERE', status: 'OPEN', action: 'ANOMALY' }),
    ]);
    expect(differenceOf(report, todays)).toEqual([
      expect.objectContaining({ kind: 'MISSING_THERE', status: 'PENDING', action: 'WAIT_NEXT_STATEMENT' }),
    ]);
    expect(report.verdict).toBe('BREAKS');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(
      await stack.query('SELECT * FROM refund_order WHERE channel_order_no IN (?, ?)', [yesterday, todays]),
    ).toEqual([]);
  });

  it('a SUCCESS pending as absent there is RESOLVED once a statement has it, under the same id', async () => {
    // SUCCESS here before the PSP booked it (its trade still waiting there): pending, not a break.
    const no = orderNo('late');
    const channelOrderNo = (await api(url, 'POST', '/v1/payments', applyBody(no))).body.attempt
      .channelOrderNo as string;
    await stack.query(
      "UPDATE channel_order SET status = 'SUCCESS', inflight_key = NULL, settled_at = NOW(3) WHERE channel_order_no = ?",
      [channelOrderNo],
    );
    const first = differenceOf(await run(), channelOrderNo);
    expect(first).toEqual([
      expect.objectContaining({ kind: 'MISSING_THERE', status: 'PENDING', change: 'NEW' }),
    ]);

    await stack.setPspFaults({ dropNotifyRate: 1 });
    expect(await stack.pay(channelOrderNo)).toBe(200);
    const second = differenceOf(await run(), channelOrderNo);
    expect(second).toEqual([
      expect.objectContaining({
        id: first[0]!.id,
        kind: 'MISSING_THERE',
        status: 'RESOLVED',
        change: 'RESOLVED',
      }),
    ]);
    const third = differenceOf(await run(), channelOrderNo);
    expect(third).toEqual([]);
  });

  it('running twice acts once: nothing new, no second notification or refund', async () => {
    const { no, channelOrderNo } = await lostPayment('twice');
    const first = await run();
    expect(differenceOf(first, channelOrderNo)[0]).toMatchObject({ action: 'SETTLED_KEPT', change: 'NEW' });
    const refundsBefore = await stack.query('SELECT refund_no FROM refund_order');
    // The notifier's order.notified for the first run's settlement may land at any time: count the rest.
    const events = "SELECT COUNT(*) AS n FROM outbox WHERE event_type <> 'order.notified'";
    const eventsBefore = (await stack.query(events)) as { n: number }[];

    const second = await run();
    expect(second.differences.filter((difference) => difference.change === 'NEW')).toEqual([]);
    expect(second.matched).toBeGreaterThan(first.matched - 1);
    expect(await stack.query('SELECT refund_no FROM refund_order')).toEqual(refundsBefore);
    expect(await stack.query(events)).toEqual(eventsBefore);
    await eventually('told', async () => (await stack.merchantOrder(no))?.status === 'PAID');
    expect((await stack.merchantOrder(no))!.distinctEvents).toBe(1);
    const [row] = (await stack.query(
      'SELECT runs, verdict FROM recon_run WHERE provider = ? AND bill_date = ?',
      ['sandbox', today],
    )) as { runs: number; verdict: string }[];
    expect(row!.runs).toBeGreaterThanOrEqual(2);
  });

  it.each<Record<string, boolean>>([{ wrongHash: true }, { truncate: true }, { notReady: true }])(
    'a statement it cannot trust (%j) is INCOMPLETE and changes nothing',
    async (faults) => {
      const { no } = await lostPayment('untrusted');
      await statementFaults(faults);
      const before = await stack.query('SELECT id, status FROM recon_difference ORDER BY id');
      const spoolsBefore = spooled();
      const report = await run();
      expect(report.verdict).toBe('INCOMPLETE');
      expect(report.differences).toEqual([]);
      expect((await payment(no)).status).toBe('PAYING');
      expect(await stack.query('SELECT id, status FROM recon_difference ORDER BY id')).toEqual(before);
      // Refused once spooled (a wrong hash, cut short) or before it: no spool is left behind.
      expect(spooled()).toEqual(spoolsBefore);
    },
  );

  it('the spooled raw statement is removed after a run, after INCOMPLETE ones and after one that failed midway', async () => {
    // Paid and settled here, in no statement run yet: a run that marked before trusting the statement would mark it.
    await paidNormally('spool-paid');
    const { no, channelOrderNo } = await lostPayment('spool');
    const marks = async () =>
      (await stack.query('SELECT * FROM recon_attempt_match ORDER BY channel_order_id')) as unknown[];
    const marksBefore = await marks();
    // The lost payment's line dropped: the statement disagrees with its summary, INCOMPLETE (its
    // other lines matched, nothing marked).
    const disagreeing: FetchedStatement[] = [];
    const incomplete = await run(
      watched(disagreeing, async function* (statement) {
        for await (const line of statement.lines()) if (line.channelOrderNo !== channelOrderNo) yield line;
      }),
    );
    expect(incomplete).toMatchObject({ verdict: 'INCOMPLETE', error: expect.stringMatching(/summary/) });
    expect(disagreeing).toHaveLength(1);
    expect(existsSync(disagreeing[0]!.raw.path)).toBe(false);
    expect((await payment(no)).status).toBe('PAYING');
    expect(await marks()).toEqual(marksBefore);

    // The reader breaks midway: INCOMPLETE too, the spool gone.
    const cut: FetchedStatement[] = [];
    const unread = await run(
      watched(cut, async function* (statement) {
        for await (const line of statement.lines()) {
          yield line;
          throw new Error('the reader broke midway');
        }
      }),
    );
    expect(unread).toMatchObject({ verdict: 'INCOMPLETE', error: expect.stringMatching(/broke midway/) });
    expect(existsSync(cut[0]!.raw.path)).toBe(false);

    // The database fails once the statement is trusted (marking what matched): the run throws, the spool goes.
    const broken: FetchedStatement[] = [];
    const failing = Object.assign(Object.create(dataSource) as DataSource, {
      query: (sql: string, parameters?: unknown[]) =>
        sql.includes('INSERT INTO recon_attempt_match')
          ? Promise.reject(new Error('the database went away'))
          : dataSource.query(sql, parameters),
    });
    await expect(
      runReconciliation(
        { dataSource: failing, provider: watched(broken), log: createLogger('recon-test', 'silent') },
        today,
      ),
    ).rejects.toThrow('the database went away');
    expect(broken).toHaveLength(1);
    expect(existsSync(broken[0]!.raw.path)).toBe(false);
    // Its claim held as a dead run's does, until it lapses: lapsed here, so the day can be run again.
    await stack.query(
      "UPDATE recon_run SET claimed_until = NOW(3) - INTERVAL 1 SECOND WHERE provider = 'sandbox' AND bill_date = ?",
      [today],
    );

    const done: FetchedStatement[] = [];
    const report = await run(watched(done));
    expect(report.verdict).not.toBe('INCOMPLETE');
    expect((await payment(no)).status).toBe('PAID');
    expect(done).toHaveLength(1);
    expect(existsSync(done[0]!.raw.path)).toBe(false);
  });

  it('a statement differing in more lines than a run holds is read again once trusted, acting at once: the same outcome', async () => {
    const { channelOrderNo: matched } = await paidNormally('held-paid');
    const { no, channelOrderNo } = await lostPayment('held');
    const report = (await runReconciliation(
      { dataSource, provider, log: createLogger('recon-test', 'silent') },
      today,
      { heldDifferences: 0 },
    ))!;
    expect(differenceOf(report, channelOrderNo)).toEqual([
      expect.objectContaining({ kind: 'PAID_THERE_NOT_HERE', status: 'ACTED', action: 'SETTLED_KEPT' }),
    ]);
    expect((await payment(no)).status).toBe('PAID');
    const [mark] = (await stack.query(
      'SELECT m.bill_date FROM recon_attempt_match m JOIN channel_order c ON c.id = m.channel_order_id WHERE c.channel_order_no = ?',
      [matched],
    )) as { bill_date: unknown }[];
    expect(mark).toBeDefined();
    for (const bridge of report.bridges) expect(bridge.residual).toBe(0);
    expect(report.matched).toBeGreaterThan(0);
  });

  it('payctl recon run and report, through its bin: INCOMPLETE exits 1; then found, reported', async () => {
    const env = stack.serviceEnv();
    const { no, channelOrderNo } = await lostPayment('payctl');
    await statementFaults({ truncate: true });
    const failed = await payctl(env, 'recon', 'run', '--provider', 'sandbox', '--date', today);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/INCOMPLETE/);
    expect((await payment(no)).status).toBe('PAYING');

    await statementFaults(undefined);
    const done = await payctl(env, 'recon', 'run', '--provider', 'sandbox', '--date', today);
    // BREAKS (3): the anomaly of the test above is still open.
    expect(done.code).toBe(3);
    expect(done.stdout).toMatch(/sandbox \d{4}-\d{2}-\d{2}: BREAKS/);
    expect(done.stdout).toMatch(/PAID_THERE_NOT_HERE: .*ACTED SETTLED_KEPT/);
    expect((await payment(no)).status).toBe('PAID');

    const report = await payctl(env, 'recon', 'report', '--date', today);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/lines read \d+, matched \d+/);
    expect(report.stdout).toMatch(/fees CNY \d+/);
    expect(report.stdout).toMatch(/residual 0/);
    expect(report.stdout).toContain(`ACTED`);
    expect(report.stdout).toMatch(/ANOMALY rd_[0-9a-f]+ MISSING_THERE/);
    expect(report.stdout).toContain(channelOrderNo);
  });
  it('a daily claim: a day held by a live run is left alone, one whose holder died is taken over, a done one never again', async () => {
    const day = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    const daily = () =>
      runReconciliation({ dataSource, provider, log: createLogger('recon-test', 'silent') }, day, {
        daily: true,
      });
    await stack.query(
      "INSERT INTO recon_run (provider, bill_date, status, claimed_by, claimed_until) VALUES ('sandbox', ?, 'RUNNING', 'elsewhere', NOW(3) + INTERVAL 1 MINUTE)",
      [day],
    );
    expect(await daily()).toBeUndefined();
    await stack.query('UPDATE recon_run SET claimed_until = NOW(3) - INTERVAL 1 SECOND WHERE bill_date = ?', [
      day,
    ]);
    expect((await daily())?.verdict).toBeDefined();
    expect(await daily()).toBeUndefined();
    // By hand (payctl), a done day is run again.
    expect(
      (await runReconciliation({ dataSource, provider, log: createLogger('recon-test', 'silent') }, day))
        ?.verdict,
    ).toBeDefined();
  });

  // Last: pollers settle what the tests above lose on purpose.
  it('the daily run: the previous day, once across two pollers, with its metrics', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const pollers = [
      await stack.startPoller({ RECON_AT: '00:00', SWEEP_INTERVAL: '500ms' }),
      await stack.startPoller({ RECON_AT: '00:00', SWEEP_INTERVAL: '500ms' }),
    ];
    await eventually(
      'yesterday reconciled',
      async () =>
        (
          (await stack.query("SELECT status FROM recon_run WHERE provider = 'sandbox' AND bill_date = ?", [
            yesterday,
          ])) as { status: string }[]
        )[0]?.status === 'DONE',
      15_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const [row] = (await stack.query(
      "SELECT runs, verdict FROM recon_run WHERE provider = 'sandbox' AND bill_date = ?",
      [yesterday],
    )) as { runs: number; verdict: string }[];
    expect(row!.runs).toBe(1);
    for (const poller of pollers) {
      const metrics = await (await fetch(`http://127.0.0.1:${poller.metricsPort()}/metrics`)).text();
      expect(metrics).toMatch(/recon_last_run_timestamp_seconds\{provider="sandbox"[^}]*\} \d{10}/);
    }
    const scraped = await Promise.all(
      pollers.map(async (poller) => (await fetch(`http://127.0.0.1:${poller.metricsPort()}/metrics`)).text()),
    );
    expect(scraped.join('\n')).toMatch(/recon_runs_total\{provider="sandbox",verdict="[A-Z_]+"[^}]*\} 1\n/);
  });
});
