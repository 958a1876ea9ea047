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
import type { DataSource } from 'typeorm';
import { affectedRows, errorMessage, type Logger } from '@payments/platform';
import { finishRefund, findRefund } from '../refunds/refunds';
import { settleAttempt } from '../settlement/settlement';
import type { PaymentChannel } from '../provider-seam/payment-channel';
import type { PaymentProvider } from '../provider-seam/provider';
import {
  BridgeBuilder,
  classifyPaymentLine,
  classifyRefundLine,
  dayBounds,
  differenceId,
  previousDay,
  StatementTally,
  summaryDisagreements,
  verdictOf,
  type Bridge,
  type DifferenceKind,
  type LineVerdict,
  type OurAttempt,
  type OurRefund,
  type Verdict,
} from './classify';
import { StatementUnavailableError, type FetchedStatement, type StatementLine } from './statement';

/** Lines matched per round trip to the database (5000: fewer round trips, a few MiB of lines held). */
const BATCH = 5000;
/** How long a claim holds before another instance may take over a run that died. */
const CLAIM_SECONDS = 15 * 60;
/** A daily run that failed (statement not ready, unreachable) is tried again after this. */
const RETRY_SECONDS = 10 * 60;

export type DifferenceStatus = 'ACTED' | 'PENDING' | 'OPEN' | 'RESOLVED';

export interface DifferenceReport {
  id: string;
  kind: DifferenceKind;
  status: DifferenceStatus;
  action: string;
  reference: string;
  channelOrderNo: string | null;
  amount: number;
  currency: string;
  detail: string;
  /** NEW this run, PERSISTING from an earlier one, RESOLVED by this run. */
  change: 'NEW' | 'PERSISTING' | 'RESOLVED';
}

export interface RunReport {
  provider: string;
  date: string;
  verdict: Verdict;
  error?: string;
  sha256?: string;
  linesRead: number;
  matched: number;
  fees: Record<string, number>;
  differences: DifferenceReport[];
  bridges: Bridge[];
}

export interface ReconObserver {
  /** One difference recorded for the first time. */
  item?(provider: string, kind: DifferenceKind | 'matched'): void;
  /** A run ended with this verdict. */
  run?(provider: string, verdict: Verdict): void;
}

export interface ReconDeps {
  dataSource: DataSource;
  provider: PaymentProvider;
  log: Logger;
  observe?: ReconObserver;
  /** Who claims the run (in the claim row). */
  owner?: string;
}

export interface RunOptions {
  /**
   * The daily run: only a (provider, date) never completed (or failed, after its retry delay).
   * Without it (payctl), a completed day is run again: nothing is acted on twice.
   */
  daily?: boolean;
}

/**
 * Takes the run of (provider, date) for this process, or says it is someone else's (or done). A
 * RUNNING claim is taken over only once it lapsed (its holder died mid-run: every action is
 * idempotent, so the run starts again from the top).
 */
export async function claimRun(
  dataSource: DataSource,
  provider: string,
  date: string,
  owner: string,
  options: RunOptions = {},
): Promise<boolean> {
  await dataSource.query("INSERT IGNORE INTO recon_run (provider, bill_date, status) VALUES (?, ?, 'NEW')", [
    provider,
    date,
  ]);
  const claimed = await dataSource.query(
    `UPDATE recon_run SET status = 'RUNNING', claimed_by = ?, claimed_until = NOW(3) + INTERVAL ? SECOND
      WHERE provider = ? AND bill_date = ?
        AND (status <> 'RUNNING' OR claimed_until < NOW(3))
        AND (? = 0 OR status IN ('NEW', 'RUNNING')
             OR (status = 'FAILED' AND (retry_after IS NULL OR retry_after < NOW(3))))`,
    [owner, CLAIM_SECONDS, provider, date, options.daily ? 1 : 0],
  );
  return affectedRows(claimed) === 1;
}

interface DifferenceInput {
  kind: DifferenceKind;
  reference: string;
  channelOrderNo: string | null;
  status: DifferenceStatus;
  action: string;
  amount: number;
  currency: string;
  detail: string;
}

class Run {
  readonly differences = new Map<string, DifferenceReport>();
  matched = 0;
  linesRead = 0;

  constructor(
    private readonly deps: ReconDeps,
    readonly date: string,
  ) {}

  private openMissing: Promise<boolean> | undefined;

  /** Whether any SUCCESS of ours waits (PENDING) or is flagged (OPEN) as absent there, as the run began. */
  hasOpenMissing(): Promise<boolean> {
    this.openMissing ??= (async () => {
      const [row] = (await this.deps.dataSource.query(
        `SELECT 1 AS found FROM recon_difference
          WHERE provider = ? AND status IN ('PENDING', 'OPEN') AND kind IN ('MISSING_THERE', 'REFUND_MISSING_THERE') LIMIT 1`,
        [this.provider],
      )) as { found: number }[];
      return row !== undefined;
    })();
    return this.openMissing;
  }

  get provider(): string {
    return this.deps.provider.name;
  }

  channelOf(name: string): PaymentChannel | undefined {
    return this.deps.provider.channels.find((channel) => channel.name === name);
  }

  /** The difference as it stands, if an earlier run recorded it. */
  async existing(kind: DifferenceKind, reference: string): Promise<{ status: DifferenceStatus } | undefined> {
    const [row] = (await this.deps.dataSource.query('SELECT status FROM recon_difference WHERE id = ?', [
      differenceId(this.provider, kind, reference),
    ])) as { status: DifferenceStatus }[];
    return row;
  }

  /** Records a difference under its stable id: new, or persisting (an ACTED or RESOLVED one keeps its status). */
  async record(input: DifferenceInput): Promise<void> {
    const id = differenceId(this.provider, input.kind, input.reference);
    // Whether it is new is read first: an upsert's affected rows do not tell (found rows count as one).
    const [before] = (await this.deps.dataSource.query('SELECT id FROM recon_difference WHERE id = ?', [
      id,
    ])) as { id: string }[];
    await this.deps.dataSource.query(
      `INSERT INTO recon_difference (id, provider, kind, reference, channel_order_no, first_bill_date, last_bill_date,
                                     status, action, amount, currency, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE
         last_bill_date = GREATEST(last_bill_date, VALUES(last_bill_date)),
         action = IF(status = 'ACTED', action, VALUES(action)),
         detail = IF(status = 'ACTED', detail, VALUES(detail)),
         status = IF(status = 'ACTED', status, VALUES(status))`,
      [
        id,
        this.provider,
        input.kind,
        input.reference.slice(0, 80),
        input.channelOrderNo,
        this.date,
        this.date,
        input.status,
        input.action,
        input.amount,
        input.currency,
        input.detail.slice(0, 512),
      ],
    );
    const inserted = before === undefined;
    if (inserted) this.deps.observe?.item?.(this.provider, input.kind);
    const [row] = (await this.deps.dataSource.query(
      'SELECT status, action, detail FROM recon_difference WHERE id = ?',
      [id],
    )) as { status: DifferenceStatus; action: string; detail: string }[];
    this.differences.set(id, {
      id,
      kind: input.kind,
      status: row!.status,
      action: row!.action,
      reference: input.reference,
      channelOrderNo: input.channelOrderNo,
      amount: input.amount,
      currency: input.currency,
      detail: row!.detail,
      change: inserted ? 'NEW' : 'PERSISTING',
    });
  }

  /** Acts on one difference of a line (the provider's query first), then records what was done. */
  async act(line: StatementLine, verdict: Exclude<LineVerdict, { kind: 'MATCHED' }>, attempt?: OurAttempt) {
    const base = {
      kind: verdict.kind,
      reference: verdict.reference,
      channelOrderNo: attempt?.channelOrderNo ?? line.channelOrderNo,
      amount: line.amount,
      currency: line.currency,
      detail: verdict.detail,
    };
    const earlier = await this.existing(verdict.kind, verdict.reference);
    if (earlier?.status === 'ACTED') return this.record({ ...base, status: 'ACTED', action: 'DONE' });
    switch (verdict.kind) {
      case 'PAID_THERE_NOT_HERE':
        return this.record({ ...base, ...(await this.settleFound(line, attempt!)) });
      case 'REFUND_NOT_SUCCESS_HERE':
        return this.record({ ...base, ...(await this.finishOurRefund(line, attempt)) });
      case 'REFUND_MADE_OUTSIDE':
        return this.record({ ...base, ...(await this.recordOutsideRefund(line, attempt!)) });
      case 'AMOUNT_MISMATCH':
      case 'CURRENCY_MISMATCH':
      case 'UNKNOWN_TRADE':
      case 'REFUND_MISMATCH':
      case 'MISSING_THERE':
      case 'REFUND_MISSING_THERE':
        return this.record({ ...base, status: 'OPEN', action: 'ANOMALY' });
      default: {
        const unknown: never = verdict.kind;
        throw new Error(`unknown difference ${String(unknown)}`);
      }
    }
  }

  /** Paid there, not SUCCESS here: the query confirms, then the one settlement path keeps or refunds it. */
  private async settleFound(line: StatementLine, attempt: OurAttempt) {
    const channel = this.channelOf(attempt.channel);
    if (!channel) return { status: 'OPEN' as const, action: 'NO_CHANNEL' };
    let answer;
    try {
      answer = await channel.queryTrade({
        channelOrderNo: attempt.channelOrderNo,
        providerTradeNo: attempt.providerTradeNo ?? line.providerTradeNo,
      });
    } catch (error) {
      this.deps.log.warn(
        { channelOrderNo: attempt.channelOrderNo, err: errorMessage(error) },
        'recon query failed',
      );
      return { status: 'PENDING' as const, action: 'QUERY_FAILED' };
    }
    if (answer === 'NOT_FOUND' || answer.status !== 'SUCCESS')
      return {
        status: 'OPEN' as const,
        action: 'UNCONFIRMED',
        detail: `statement says paid; the query says ${answer === 'NOT_FOUND' ? 'NOT_FOUND' : answer.status}`,
      };
    const result = await settleAttempt(
      this.deps.dataSource,
      attempt.channelOrderNo,
      { ...answer, providerTradeNo: answer.providerTradeNo ?? line.providerTradeNo },
      {
        alsoWrite: () => [
          {
            sql: 'UPDATE channel_order SET recon_date = ? WHERE channel_order_no = ?',
            params: [this.date, attempt.channelOrderNo],
          },
        ],
      },
    );
    const kind = result?.settlement.kind;
    this.deps.log.info(
      { channelOrderNo: attempt.channelOrderNo, outcome: kind, provider: this.provider, date: this.date },
      'recon settled a payment found in the statement',
    );
    switch (kind) {
      case 'PAID':
        return { status: 'ACTED' as const, action: 'SETTLED_KEPT' };
      case 'DUPLICATE':
      case 'KEPT_INSTEAD':
      case 'PAID_AFTER_CLOSE':
        return { status: 'ACTED' as const, action: 'SETTLED_EXTRA_REFUNDING' };
      case 'NO_CHANGE':
        return { status: 'ACTED' as const, action: 'ALREADY_SETTLED' };
      default:
        return { status: 'OPEN' as const, action: `SETTLEMENT_${kind ?? 'NONE'}` };
    }
  }

  /** Our refund, not SUCCESS here: its query confirms, then it is finished as every refund is. */
  private async finishOurRefund(line: StatementLine, attempt: OurAttempt | undefined) {
    const refund = await findRefund(this.deps.dataSource, line.refundNo!);
    const channel = refund && this.channelOf(refund.channel);
    if (!refund || !channel) return { status: 'OPEN' as const, action: 'NO_CHANNEL' };
    let status;
    try {
      status = await channel.queryRefund(refund.refund_no, {
        channelOrderNo: refund.channel_order_no,
        providerTradeNo: attempt?.providerTradeNo ?? line.providerTradeNo,
      });
    } catch (error) {
      this.deps.log.warn(
        { refundNo: refund.refund_no, err: errorMessage(error) },
        'recon refund query failed',
      );
      return { status: 'PENDING' as const, action: 'QUERY_FAILED' };
    }
    if (status !== 'SUCCESS') return unconfirmedRefund(line, status);
    const finished = await finishRefund(this.deps.dataSource, refund, 'SUCCESS');
    await this.deps.dataSource.query('UPDATE refund_order SET recon_date = ? WHERE id = ?', [
      this.date,
      refund.id,
    ]);
    if (!finished) return { status: 'OPEN' as const, action: `REFUND_IS_${refund.status}` };
    return { status: 'ACTED' as const, action: 'REFUND_SETTLED' };
  }

  /**
   * A refund we never asked for (made at the provider's portal): confirmed by its query, then
   * recorded here as a difference, ACTED with RECORDED_OUTSIDE, not as a refund_order row: a
   * refund_order is what we asked a provider for (one per attempt and reason, its number our
   * idempotency key, the refunder's sweeps act on it), and this one we did not ask for.
   */
  private async recordOutsideRefund(line: StatementLine, attempt: OurAttempt) {
    const channel = this.channelOf(attempt.channel);
    if (!channel || !line.refundNo) return { status: 'OPEN' as const, action: 'NO_CHANNEL' };
    let status;
    try {
      status = await channel.queryRefund(line.refundNo, {
        channelOrderNo: attempt.channelOrderNo,
        providerTradeNo: attempt.providerTradeNo ?? line.providerTradeNo,
      });
    } catch (error) {
      this.deps.log.warn({ refundNo: line.refundNo, err: errorMessage(error) }, 'recon refund query failed');
      return { status: 'PENDING' as const, action: 'QUERY_FAILED' };
    }
    if (status !== 'SUCCESS') return unconfirmedRefund(line, status);
    return { status: 'ACTED' as const, action: 'RECORDED_OUTSIDE' };
  }
}

/**
 * A refund line the provider's query does not (yet) confirm: a provisional line (its status a
 * snapshot of the bill's day, WeChat Pay's PROCESSING) waits for a later run, never flagged; a
 * final one is an anomaly for a person.
 */
function unconfirmedRefund(line: StatementLine, status: string) {
  return line.provisional
    ? {
        status: 'PENDING' as const,
        action: 'WAIT_PROVIDER',
        detail: `provisional refund line; the query says ${status}`,
      }
    : {
        status: 'OPEN' as const,
        action: 'UNCONFIRMED',
        detail: `statement says refunded; the query says ${status}`,
      };
}

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

/** Raw bytes kept per chunk: well under max_allowed_packet once escaped (16 MiB by default). */
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Keeps the raw statement and its SHA-256 (once per content: the same bytes fetched again are not
 * stored twice), in chunks, in one transaction: a statement row always has all its chunks.
 */
async function keepStatement(dataSource: DataSource, statement: FetchedStatement): Promise<number> {
  const find = async () =>
    (
      (await dataSource.query(
        'SELECT id FROM recon_statement WHERE provider = ? AND bill_date = ? AND sha256 = ?',
        [statement.provider, statement.date, statement.sha256],
      )) as { id: number }[]
    )[0]?.id;
  const existing = await find();
  if (existing !== undefined) return Number(existing);
  const chunks = Math.max(1, Math.ceil(statement.raw.length / CHUNK_BYTES));
  return dataSource.transaction(async (manager) => {
    const inserted = (await manager.query(
      'INSERT INTO recon_statement (provider, bill_date, sha256, byte_length, chunks) VALUES (?, ?, ?, ?, ?)',
      [statement.provider, statement.date, statement.sha256, statement.raw.length, chunks],
    )) as { insertId: number };
    for (let seq = 0; seq < chunks; seq += 1)
      await manager.query('INSERT INTO recon_statement_chunk (statement_id, seq, bytes) VALUES (?, ?, ?)', [
        inserted.insertId,
        seq,
        statement.raw.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES),
      ]);
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

interface AttemptDbRow {
  channel_order_no: string;
  channel: string;
  status: OurAttempt['status'];
  amount: string | number;
  currency: string;
  provider_trade_no: string | null;
}

const attemptOf = (row: AttemptDbRow): OurAttempt => ({
  channelOrderNo: row.channel_order_no,
  channel: row.channel,
  status: row.status,
  amount: Number(row.amount),
  currency: row.currency,
  providerTradeNo: row.provider_trade_no,
});

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** One batch of lines: our records of them in two round trips, then each line classified and acted on. */
async function matchBatch(
  run: Run,
  dataSource: DataSource,
  channels: string[],
  lines: StatementLine[],
  bridge: BridgeBuilder,
): Promise<void> {
  const ourNumbers = [
    ...new Set(lines.flatMap((line) => (line.channelOrderNo ? [line.channelOrderNo] : []))),
  ];
  const theirNumbers = [
    ...new Set(
      lines.flatMap((line) => (!line.channelOrderNo && line.providerTradeNo ? [line.providerTradeNo] : [])),
    ),
  ];
  const refundNumbers = [...new Set(lines.flatMap((line) => (line.refundNo ? [line.refundNo] : [])))];
  const attempts = new Map<string, OurAttempt>();
  const byTradeNo = new Map<string, OurAttempt>();
  const columns = 'channel_order_no, channel, status, amount, currency, provider_trade_no';
  if (ourNumbers.length > 0)
    for (const row of (await dataSource.query(
      `SELECT ${columns} FROM channel_order WHERE channel_order_no IN (${placeholders(ourNumbers.length)})`,
      ourNumbers,
    )) as AttemptDbRow[])
      attempts.set(row.channel_order_no, attemptOf(row));
  if (theirNumbers.length > 0)
    for (const row of (await dataSource.query(
      `SELECT ${columns} FROM channel_order WHERE provider_trade_no IN (${placeholders(theirNumbers.length)})
          AND channel IN (${placeholders(channels.length)})`,
      [...theirNumbers, ...channels],
    )) as AttemptDbRow[])
      if (row.provider_trade_no) byTradeNo.set(row.provider_trade_no, attemptOf(row));
  const refunds = new Map<string, OurRefund>();
  if (refundNumbers.length > 0)
    for (const row of (await dataSource.query(
      `SELECT refund_no, channel_order_no, status, amount, currency FROM refund_order
        WHERE refund_no IN (${placeholders(refundNumbers.length)})`,
      refundNumbers,
    )) as {
      refund_no: string;
      channel_order_no: string;
      status: OurRefund['status'];
      amount: string;
      currency: string;
    }[])
      refunds.set(row.refund_no, {
        refundNo: row.refund_no,
        channelOrderNo: row.channel_order_no,
        status: row.status,
        amount: Number(row.amount),
        currency: row.currency,
      });

  const matchedAttempts: string[] = [];
  const matchedRefunds: string[] = [];
  for (const line of lines) {
    const attempt = line.channelOrderNo
      ? attempts.get(line.channelOrderNo)
      : line.providerTradeNo
        ? byTradeNo.get(line.providerTradeNo)
        : undefined;
    const refund = line.refundNo ? refunds.get(line.refundNo) : undefined;
    const verdict =
      line.kind === 'PAYMENT'
        ? classifyPaymentLine(line, attempt)
        : classifyRefundLine(line, refund, attempt);
    bridge.add(line, verdict.kind);
    if (verdict.kind === 'MATCHED') {
      run.matched += 1;
      if (line.kind === 'PAYMENT') matchedAttempts.push(attempt!.channelOrderNo);
      else matchedRefunds.push(refund!.refundNo);
      continue;
    }
    await run.act(line, verdict, attempt);
  }
  if (matchedAttempts.length > 0) {
    await dataSource.query(
      `UPDATE channel_order SET recon_date = ? WHERE channel_order_no IN (${placeholders(matchedAttempts.length)})
          AND (recon_date IS NULL OR recon_date <> ?)`,
      [run.date, ...matchedAttempts, run.date],
    );
    await resolveMissing(run, dataSource, 'MISSING_THERE', matchedAttempts);
  }
  if (matchedRefunds.length > 0) {
    await dataSource.query(
      `UPDATE refund_order SET recon_date = ? WHERE refund_no IN (${placeholders(matchedRefunds.length)})
          AND (recon_date IS NULL OR recon_date <> ?)`,
      [run.date, ...matchedRefunds, run.date],
    );
    await resolveMissing(run, dataSource, 'REFUND_MISSING_THERE', matchedRefunds);
  }
}

/** A SUCCESS of ours pending (or flagged) as absent there, now found in a statement: RESOLVED. */
async function resolveMissing(
  run: Run,
  dataSource: DataSource,
  kind: 'MISSING_THERE' | 'REFUND_MISSING_THERE',
  references: string[],
): Promise<void> {
  // Most days nothing of ours waits as absent there: asked once per run, not once per batch.
  if (!(await run.hasOpenMissing())) return;
  const ids = references.map((reference) => differenceId(run.provider, kind, reference));
  const rows = (await dataSource.query(
    `SELECT id, reference, channel_order_no, amount, currency, detail, action FROM recon_difference
      WHERE id IN (${placeholders(ids.length)}) AND status IN ('PENDING', 'OPEN')`,
    ids,
  )) as {
    id: string;
    reference: string;
    channel_order_no: string | null;
    amount: string;
    currency: string;
    detail: string;
    action: string;
  }[];
  if (rows.length === 0) return;
  await dataSource.query(
    `UPDATE recon_difference SET status = 'RESOLVED', resolved_at = NOW(3), last_bill_date = ?
      WHERE id IN (${placeholders(rows.length)}) AND status IN ('PENDING', 'OPEN')`,
    [run.date, ...rows.map((row) => row.id)],
  );
  for (const row of rows)
    run.differences.set(row.id, {
      id: row.id,
      kind,
      status: 'RESOLVED',
      action: row.action,
      reference: row.reference,
      channelOrderNo: row.channel_order_no,
      amount: Number(row.amount),
      currency: row.currency,
      detail: row.detail,
      change: 'RESOLVED',
    });
}

/**
 * SUCCESS here, absent there: our payments and refunds of this provider settled on the day before
 * or on the day itself that no statement has matched. The day before's are breaks (its statement
 * and this one were read); the day's own are PENDING until the next day's statement is read.
 */
async function findMissingThere(run: Run, dataSource: DataSource, channels: string[], timeZone: string) {
  if (channels.length === 0) return;
  const from = dayBounds(previousDay(run.date), timeZone).start;
  const { start, end } = dayBounds(run.date, timeZone);
  const attempts = (await dataSource.query(
    `SELECT channel_order_no, amount, currency, settled_at FROM channel_order
      WHERE status = 'SUCCESS' AND recon_date IS NULL AND settled_at >= ? AND settled_at < ?
        AND channel IN (${placeholders(channels.length)})`,
    [from, end, ...channels],
  )) as { channel_order_no: string; amount: string; currency: string; settled_at: Date }[];
  for (const row of attempts) {
    const final = new Date(row.settled_at) < start;
    await run.record({
      kind: 'MISSING_THERE',
      reference: row.channel_order_no,
      channelOrderNo: row.channel_order_no,
      status: final ? 'OPEN' : 'PENDING',
      action: final ? 'ANOMALY' : 'WAIT_NEXT_STATEMENT',
      amount: Number(row.amount),
      currency: row.currency,
      detail: `SUCCESS here (settled ${new Date(row.settled_at).toISOString()}), absent from the statement${final ? 's of that day and the next' : " (grace: the next day's statement)"}`,
    });
  }
  const refunds = (await dataSource.query(
    `SELECT refund_no, channel_order_no, amount, currency, finished_at FROM refund_order
      WHERE status = 'SUCCESS' AND recon_date IS NULL AND settled_manually_at IS NULL
        AND finished_at >= ? AND finished_at < ? AND channel IN (${placeholders(channels.length)})`,
    [from, end, ...channels],
  )) as {
    refund_no: string;
    channel_order_no: string;
    amount: string;
    currency: string;
    finished_at: Date;
  }[];
  for (const row of refunds) {
    const final = new Date(row.finished_at) < start;
    await run.record({
      kind: 'REFUND_MISSING_THERE',
      reference: row.refund_no,
      channelOrderNo: row.channel_order_no,
      status: final ? 'OPEN' : 'PENDING',
      action: final ? 'ANOMALY' : 'WAIT_NEXT_STATEMENT',
      amount: Number(row.amount),
      currency: row.currency,
      detail: `refund SUCCESS here, absent from the statement${final ? 's of that day and the next' : " (grace: the next day's statement)"}`,
    });
  }
}
