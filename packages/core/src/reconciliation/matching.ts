/**
 * Statement lines against our attempts and refunds: batched lookups, each line classified; what a
 * line asks for (a difference to act on, a mark, a difference absent there until now resolved)
 * is either held until the statement is trusted (`deferred`: the pass that checks the summary
 * matches too, so a statement is read once) or done at once, batch by batch.
 */

import type { DataSource } from 'typeorm';

import {
  BridgeBuilder,
  classifyPaymentLine,
  classifyRefundLine,
  type LineVerdict,
  type OurAttempt,
  type OurRefund,
} from './classify';
import { IdList, markAttempts, markRefunds, missingKey, resolveMissing, type OpenMissing } from './marks';
import { type StatementLine } from './statement';
import type { Run } from './run-state';

/** Our attempt as a lookup reads it: one object per row (its primary key, what a match marks, beside it). */
interface FoundAttempt extends OurAttempt {
  id: number;
}

interface AttemptDbRow {
  id: string | number;
  channel_order_no: string;
  channel: string;
  status: OurAttempt['status'];
  amount: string | number;
  currency: string;
  provider_trade_no: string | null;
}

const attemptOf = (row: AttemptDbRow): FoundAttempt => ({
  id: Number(row.id),
  channelOrderNo: row.channel_order_no,
  channel: row.channel,
  status: row.status,
  amount: Number(row.amount),
  currency: row.currency,
  providerTradeNo: row.provider_trade_no,
});

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Differences held while the statement is not yet trusted; past this, they are found again in a second pass. */
export const HELD_DIFFERENCES = 10_000;

interface Difference {
  line: StatementLine;
  verdict: Exclude<LineVerdict, { kind: 'MATCHED' }>;
  attempt: FoundAttempt | undefined;
}

export class Matcher {
  readonly bridge: BridgeBuilder;
  private readonly attemptMarks = new IdList();
  private readonly refundMarks = new IdList();
  private readonly resolved: OpenMissing[] = [];
  private differences: Difference[] = [];
  /** More differences than are held: the statement is matched again, acting at once (`deferred` off). */
  overflowed = false;

  constructor(
    private readonly run: Run,
    private readonly dataSource: DataSource,
    private readonly channels: string[],
    private readonly missing: Map<string, OpenMissing>,
    private readonly deferred: boolean,
    private readonly held = HELD_DIFFERENCES,
  ) {
    this.bridge = new BridgeBuilder(run.statementTotals);
  }

  /** One batch of lines: our records of them in up to three round trips, then each line classified. */
  async match(lines: StatementLine[]): Promise<void> {
    if (this.overflowed) return;
    const { attempts, byTradeNo } = await this.attemptsOf(lines);
    const refunds = await this.refundsOf(lines);
    const now: Difference[] = [];
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
      this.bridge.add(line, verdict.kind);
      if (verdict.kind !== 'MATCHED') {
        (this.deferred ? this.differences : now).push({ line, verdict, attempt });
        continue;
      }
      this.run.matched += 1;
      if (line.kind === 'PAYMENT')
        this.found('MISSING_THERE', attempt!.channelOrderNo, attempt!.id, this.attemptMarks);
      else this.found('REFUND_MISSING_THERE', refund!.refundNo, refund!.id, this.refundMarks);
    }
    if (this.differences.length > this.held) {
      this.overflowed = true;
      this.differences = [];
    }
    if (!this.deferred) {
      for (const { line, verdict, attempt } of now) await this.run.act(line, verdict, attempt);
      await this.write();
    }
  }

  /** What was held, done now the statement is trusted (or, at once, the batch's marks). */
  async apply(): Promise<void> {
    for (const { line, verdict, attempt } of this.differences) await this.run.act(line, verdict, attempt);
    this.differences = [];
    await this.write();
  }

  private found(
    kind: 'MISSING_THERE' | 'REFUND_MISSING_THERE',
    reference: string,
    id: number,
    marks: IdList,
  ) {
    marks.push(id);
    const missing = this.missing.get(missingKey(kind, reference));
    if (missing) this.resolved.push(missing);
  }

  private async write(): Promise<void> {
    await markAttempts(this.dataSource, this.run.date, this.attemptMarks);
    await markRefunds(this.dataSource, this.run.date, this.refundMarks);
    await resolveMissing(this.run, this.dataSource, this.resolved);
    this.attemptMarks.length = 0;
    this.refundMarks.length = 0;
    this.resolved.length = 0;
  }

  /** Our attempts the lines name: by our number, else (a line without it) by the provider's number among its channels. */
  private async attemptsOf(lines: StatementLine[]) {
    // Arrays, not sets: a number twice in a statement is rare, and the IN list takes it twice.
    const ourNumbers: string[] = [];
    const theirNumbers: string[] = [];
    for (const line of lines)
      if (line.channelOrderNo) ourNumbers.push(line.channelOrderNo);
      else if (line.providerTradeNo) theirNumbers.push(line.providerTradeNo);
    const attempts = new Map<string, FoundAttempt>();
    const byTradeNo = new Map<string, FoundAttempt>();
    const columns = 'id, channel_order_no, channel, status, amount, currency, provider_trade_no';
    if (ourNumbers.length > 0)
      for (const row of (await this.dataSource.query(
        `SELECT ${columns} FROM channel_order WHERE channel_order_no IN (${placeholders(ourNumbers.length)})`,
        ourNumbers,
      )) as AttemptDbRow[])
        attempts.set(row.channel_order_no, attemptOf(row));
    if (theirNumbers.length > 0 && this.channels.length > 0)
      for (const row of (await this.dataSource.query(
        `SELECT ${columns} FROM channel_order WHERE provider_trade_no IN (${placeholders(theirNumbers.length)})
            AND channel IN (${placeholders(this.channels.length)})`,
        [...theirNumbers, ...this.channels],
      )) as AttemptDbRow[])
        if (row.provider_trade_no) byTradeNo.set(row.provider_trade_no, attemptOf(row));
    return { attempts, byTradeNo };
  }

  private async refundsOf(lines: StatementLine[]): Promise<Map<string, OurRefund & { id: number }>> {
    const numbers = new Set<string>();
    for (const line of lines) if (line.refundNo) numbers.add(line.refundNo);
    const refunds = new Map<string, OurRefund & { id: number }>();
    if (numbers.size === 0) return refunds;
    for (const row of (await this.dataSource.query(
      `SELECT id, refund_no, channel_order_no, status, amount, currency FROM refund_order
        WHERE refund_no IN (${placeholders(numbers.size)})`,
      [...numbers],
    )) as {
      id: string | number;
      refund_no: string;
      channel_order_no: string;
      status: OurRefund['status'];
      amount: string;
      currency: string;
    }[])
      refunds.set(row.refund_no, {
        id: Number(row.id),
        refundNo: row.refund_no,
        channelOrderNo: row.channel_order_no,
        status: row.status,
        amount: Number(row.amount),
        currency: row.currency,
      });
    return refunds;
  }
}
