/**
 * One reconciliation run of a provider's statement of a day (CONTRACT 11): claim the (provider,
 * date), fetch and verify the statement (spooled, never held whole), then one pass over its lines
 * that tallies them against its own summary and matches each with our attempts and refunds
 * (./classify.ts decides) without writing or acting on anything; only once the statement is
 * trusted, keep it raw, mark what matched, act on what the money rules can decide through the one
 * settlement path and the refund functions, and record every difference under its stable id.
 * Idempotent: a second run of the same day finds what the first did already matched, and acts on
 * nothing twice.
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

import { summaryDisagreements, verdictOf } from './classify';
import { StatementUnavailableError, type FetchedStatement, type StatementLine } from './statement';
import { claimRun } from './claim';
import { openMissing } from './marks';
import { Matcher } from './matching';
import { findMissingThere } from './missing-there';
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
    try {
      statement = await provider.statements.fetchStatement(date);
    } catch (error) {
      return await incomplete(deps, date, run, error);
    }
    run.statementSummary = statement.summary;
    const channels = provider.channels.map((channel) => channel.name);
    const matcher = new Matcher(
      run,
      dataSource,
      channels,
      await openMissing(dataSource, provider.name),
      true,
      options.heldDifferences,
    );
    // The one pass before anything is touched: every line tallied and matched, nothing written.
    try {
      await inBatches(statement.lines(), (lines) => {
        for (const line of lines) run.tally.add(line);
        return matcher.match(lines);
      });
      const problems = summaryDisagreements(statement.summary, run.tally);
      if (problems.length > 0)
        throw new StatementUnavailableError(
          `statement disagrees with its summary: ${problems.join('; ')}`,
          'UNREADABLE',
        );
    } catch (error) {
      if (error instanceof MatchFailed) throw error.error;
      return await incomplete(deps, date, run, error);
    }
    return await reconcile(deps, date, run, statement, matcher);
  } finally {
    // The spooled raw statement goes whatever happened (done, INCOMPLETE, or a database failure).
    await statement?.dispose();
  }
}

/** A failure of the matching (the database), not of the statement: thrown, never INCOMPLETE. */
class MatchFailed {
  constructor(readonly error: unknown) {}
}

/** The lines in batches, one matched while the next is read and parsed; the reader's failures thrown as they are. */
async function inBatches(
  lines: AsyncIterable<StatementLine>,
  match: (batch: StatementLine[]) => Promise<void>,
): Promise<void> {
  const guarded = (batch: StatementLine[]) => {
    const matching = match(batch).catch((error: unknown) => {
      throw new MatchFailed(error);
    });
    matching.catch(() => {});
    return matching;
  };
  let matching: Promise<void> = Promise.resolve();
  let batch: StatementLine[] = [];
  try {
    for await (const line of lines) {
      batch.push(line);
      if (batch.length >= BATCH) {
        await matching;
        matching = guarded(batch);
        batch = [];
      }
    }
  } finally {
    // Never left matching in the background when reading failed.
    await matching.catch(() => undefined);
  }
  await matching;
  if (batch.length > 0) await guarded(batch);
}

/** A statement not fetched, verified or parsed: the run is INCOMPLETE, nothing acted on, tried again later. */
async function incomplete(deps: ReconDeps, date: string, run: Run, failure: unknown): Promise<RunReport> {
  const { dataSource, provider, log } = deps;
  const message = errorMessage(failure);
  const reason = failure instanceof StatementUnavailableError ? failure.reason : 'FETCH_FAILED';
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

/**
 * The statement is trusted: kept raw (on a connection of its own, beside the rest), what matched
 * marked, what differs acted on (or, when it differed in too many lines to hold, matched again
 * acting at once), what we hold and it lacks found, and the run's verdict recorded.
 */
async function reconcile(
  deps: ReconDeps,
  date: string,
  run: Run,
  statement: FetchedStatement,
  first: Matcher,
): Promise<RunReport> {
  const { dataSource, provider, log } = deps;
  let matcher = first;
  const kept = keepStatement(dataSource, statement);
  kept.catch(() => {});
  try {
    if (first.overflowed) {
      run.matched = 0;
      const channels = provider.channels.map((channel) => channel.name);
      matcher = new Matcher(run, dataSource, channels, await openMissing(dataSource, provider.name), false);
      await inBatches(statement.lines(), (lines) => matcher.match(lines)).catch((error: unknown) => {
        throw error instanceof MatchFailed ? error.error : error;
      });
    } else await first.apply();
  } finally {
    await kept.catch(() => undefined);
  }
  const statementId = await kept;
  await findMissingThere(
    run,
    dataSource,
    provider.channels.map((channel) => channel.name),
    provider.statements!.timeZone,
  );

  const differences = [...run.differences.values()];
  const verdict = verdictOf({
    breaks: differences.filter((d) => d.status === 'OPEN').length,
    pending: differences.filter((d) => d.status === 'PENDING').length,
  });
  const fees = Object.fromEntries(
    Object.entries(run.tally.totals).map(([currency, t]) => [currency, t.fees]),
  );
  const report: RunReport = {
    provider: provider.name,
    date,
    verdict,
    sha256: statement.sha256,
    linesRead: run.tally.lines,
    matched: run.matched,
    fees,
    differences,
    bridges: matcher.bridge.result(),
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
      lines: run.tally.lines,
      matched: run.matched,
      differences: differences.length,
    },
    'reconciliation done',
  );
  deps.observe?.run?.(provider.name, verdict);
  return report;
}
