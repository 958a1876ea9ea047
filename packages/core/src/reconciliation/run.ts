/**
 * One reconciliation run of a provider's statement of a day (CONTRACT 11): claim the (provider,
 * date), fetch and verify the statement, check it against its own summary before anything is
 * touched, keep it raw, then match every line with our attempts and refunds (./classify.ts
 * decides), act on what the money rules can decide through the one settlement path and the refund
 * functions, and record every difference under its stable id. Idempotent: a second run of the
 * same day finds what the first did already matched, and acts on nothing twice.
 *
 * Grace: a line paid there and not SUCCESS here is acted on at once, once the provider's own query
 * of that trade confirms it (the query is the truth now, and settling is what the poller would
 * do, through the same function). A SUCCESS of ours absent from the statement stays PENDING until
 * the next day's statement has been read too (a payment at 23:59:59 may be booked the next day,
 * and our settlement may lag the provider's booking): a run of day D looks at what we settled on
 * D-1 and D, and only what D-1 settled becomes a break.
 */
import { hostname } from 'node:os';

import { errorMessage } from '@payments/platform';

import { BridgeBuilder, summaryDisagreements, verdictOf } from './classify';
import { StatementUnavailableError, type FetchedStatement, type StatementLine } from './statement';
import { claimRun } from './claim';
import { findMissingThere, matchBatch } from './matching';
import { Run } from './run-state';
import { keepStatement } from './statement-store';
import type { ReconDeps, RunOptions, RunReport } from './types';

/** Lines matched per round trip to the database (5000: fewer round trips, a few MiB of lines held). */
const BATCH = 5000;
/** A daily run that failed (statement not ready, unreachable) is tried again after this. */
const RETRY_SECONDS = 10 * 60;

/** Runs (provider, date) once: its report, or undefined when another instance holds it (or, daily, it is done). */
export async function runReconciliation(
  deps: ReconDeps,
  date: string,
  options: RunOptions = {},
): Promise<RunReport | undefined> {
  const { dataSource, provider } = deps;
  const owner = deps.owner ?? `${hostname()}:${process.pid}`;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`bad date ${date}: YYYY-MM-DD`);
  if (!provider.statements) throw new Error(`provider ${provider.name} has no statement to reconcile`);
  if (!(await claimRun(dataSource, provider.name, date, owner, options))) return undefined;
  const run = new Run(deps, date);
  let statement: FetchedStatement | undefined;
  try {
    statement = await fetchAndCheck(deps, date, run);
    if (!statement) return await incomplete(deps, date, run);
    return await reconcile(deps, date, run, statement);
  } finally {
    // The spooled raw statement goes whatever happened (done, INCOMPLETE, or a database failure).
    await statement?.dispose();
  }
}

/** Fetches the statement and checks it against its own summary before anything is touched: undefined when it cannot be trusted. */
async function fetchAndCheck(deps: ReconDeps, date: string, run: Run): Promise<FetchedStatement | undefined> {
  let statement: FetchedStatement | undefined;
  try {
    statement = await deps.provider.statements!.fetchStatement(date);
    // First pass: read every line and check the statement's own summary before touching anything.
    for await (const line of statement.lines()) run.tally.add(line);
    const problems = summaryDisagreements(statement.summary, run.tally);
    if (problems.length > 0)
      throw new StatementUnavailableError(
        `statement disagrees with its summary: ${problems.join('; ')}`,
        'UNREADABLE',
      );
    return statement;
  } catch (error) {
    await statement?.dispose();
    run.failure = error;
    return undefined;
  }
}

/** A statement not fetched, verified or parsed: the run is INCOMPLETE, nothing acted on, tried again later. */
async function incomplete(deps: ReconDeps, date: string, run: Run): Promise<RunReport> {
  const { dataSource, provider, log } = deps;
  const message = errorMessage(run.failure);
  const reason = run.failure instanceof StatementUnavailableError ? run.failure.reason : 'FETCH_FAILED';
  await dataSource.query(
    `UPDATE recon_run SET status = 'FAILED', verdict = 'INCOMPLETE', error = ?, finished_at = NOW(3),
            retry_after = NOW(3) + INTERVAL ? SECOND, claimed_until = NULL, runs = runs + 1
      WHERE provider = ? AND bill_date = ?`,
    [`${reason}: ${message}`.slice(0, 512), RETRY_SECONDS, provider.name, date],
  );
  log.error(
    { provider: provider.name, date, reason, err: message },
    'reconciliation INCOMPLETE: nothing acted on',
  );
  deps.observe?.run?.(provider.name, 'INCOMPLETE');
  return {
    provider: provider.name,
    date,
    verdict: 'INCOMPLETE',
    error: `${reason}: ${message}`,
    linesRead: run.tally.lines,
    matched: 0,
    fees: {},
    differences: [],
    bridges: [],
  };
}

/** The second pass: every line matched and acted on, in batches, while the raw statement is kept beside it. */
async function reconcile(
  deps: ReconDeps,
  date: string,
  run: Run,
  statement: FetchedStatement,
): Promise<RunReport> {
  const { dataSource, provider, log } = deps;
  const tally = run.tally;
  // Kept on a connection of its own while the lines are matched on another: neither waits for the other.
  const kept = keepStatement(dataSource, statement);
  kept.catch(() => {});
  // The bridge starts from the statement's own totals: its summary, or, for a statement that has
  // none (Stripe's balance transactions), what its lines add up to (the first pass's tally).
  const bridge = new BridgeBuilder(statement.summary ?? { lines: tally.lines, totals: tally.totals });
  const channels = provider.channels.map((channel) => channel.name);
  // One batch is matched while the next is read and parsed.
  let matching: Promise<void> = Promise.resolve();
  let batch: StatementLine[] = [];
  const flush = async () => {
    await matching;
    const lines = batch;
    batch = [];
    matching = lines.length > 0 ? matchBatch(run, dataSource, channels, lines, bridge) : Promise.resolve();
    matching.catch(() => {});
  };
  try {
    for await (const line of statement.lines()) {
      run.linesRead += 1;
      batch.push(line);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    await matching;
  } finally {
    // Never left writing the statement into a transaction when matching failed.
    await kept.catch(() => undefined);
  }
  const statementId = await kept;
  await findMissingThere(run, dataSource, channels, provider.statements!.timeZone);

  const differences = [...run.differences.values()];
  const verdict = verdictOf({
    breaks: differences.filter((d) => d.status === 'OPEN').length,
    pending: differences.filter((d) => d.status === 'PENDING').length,
  });
  const fees = Object.fromEntries(Object.entries(tally.totals).map(([currency, t]) => [currency, t.fees]));
  const report: RunReport = {
    provider: provider.name,
    date,
    verdict,
    sha256: statement.sha256,
    linesRead: run.linesRead,
    matched: run.matched,
    fees,
    differences,
    bridges: bridge.result(),
  };
  await dataSource.query(
    `UPDATE recon_run SET status = 'DONE', verdict = ?, error = NULL, statement_id = ?, report = ?, runs = runs + 1,
            finished_at = NOW(3), succeeded_at = NOW(3), claimed_until = NULL
      WHERE provider = ? AND bill_date = ?`,
    [verdict, statementId, JSON.stringify(report), provider.name, date],
  );
  log.info(
    {
      provider: provider.name,
      date,
      verdict,
      lines: run.linesRead,
      matched: run.matched,
      differences: differences.length,
    },
    'reconciliation done',
  );
  deps.observe?.run?.(provider.name, verdict);
  return report;
}
