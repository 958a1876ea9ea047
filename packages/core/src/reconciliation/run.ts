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

import { BridgeBuilder, StatementTally, summaryDisagreements, verdictOf } from './classify';
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
  const { dataSource, provider, log } = deps;
  const owner = deps.owner ?? `${hostname()}:${process.pid}`;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`bad date ${date}: YYYY-MM-DD`);
  if (!provider.statements) throw new Error(`provider ${provider.name} has no statement to reconcile`);
  if (!(await claimRun(dataSource, provider.name, date, owner, options))) return undefined;
  const run = new Run(deps, date);
  let statement: FetchedStatement;
  const tally = new StatementTally();
  try {
    statement = await provider.statements.fetchStatement(date);
    // First pass: read every line and check the statement's own summary before touching anything.
    for await (const line of statement.lines()) tally.add(line);
    const problems = summaryDisagreements(statement.summary, tally);
    if (problems.length > 0)
      throw new StatementUnavailableError(
        `statement disagrees with its summary: ${problems.join('; ')}`,
        'UNREADABLE',
      );
  } catch (error) {
    const message = errorMessage(error);
    const reason = error instanceof StatementUnavailableError ? error.reason : 'FETCH_FAILED';
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
      linesRead: tally.lines,
      matched: 0,
      fees: {},
      differences: [],
      bridges: [],
    };
  }

  const statementId = await keepStatement(dataSource, statement);

  const bridge = new BridgeBuilder(statement.summary);
  const channels = provider.channels.map((channel) => channel.name);
  let batch: StatementLine[] = [];
  const flush = async () => {
    if (batch.length > 0) await matchBatch(run, dataSource, channels, batch, bridge);
    batch = [];
  };
  for await (const line of statement.lines()) {
    run.linesRead += 1;
    batch.push(line);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  await findMissingThere(run, dataSource, channels, provider.statements.timeZone);

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
