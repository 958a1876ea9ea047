/**
 * One run in progress: the differences it found, each recorded under its stable id, and what it
 * does about each (settle through the one settlement path, finish our refund, record one made
 * outside, or leave an anomaly for a person).
 */

import { errorMessage } from '@payments/platform';
import { finishRefund, findRefund } from '../refunds/refunds';
import { settleAttempt } from '../settlement/settlement';
import type { PaymentChannel } from '../provider-seam/payment-channel';

import {
  differenceId,
  StatementTally,
  type DifferenceKind,
  type LineVerdict,
  type OurAttempt,
} from './classify';
import { type StatementLine, type StatementSummary } from './statement';
import type { ReconDeps, DifferenceReport, DifferenceStatus } from './types';

export interface DifferenceInput {
  kind: DifferenceKind;
  reference: string;
  channelOrderNo: string | null;
  status: DifferenceStatus;
  action: string;
  amount: number;
  currency: string;
  detail: string;
}

export class Run {
  readonly differences = new Map<string, DifferenceReport>();
  /** What the first pass read: its lines and totals, checked against the statement's summary. */
  readonly tally = new StatementTally();
  /** The statement's own summary, once fetched. */
  statementSummary: StatementSummary | null = null;
  matched = 0;

  constructor(
    private readonly deps: ReconDeps,
    readonly date: string,
  ) {}

  /** What the statement says it holds: its summary, or without one what its lines added up to. */
  readonly statementTotals = (): StatementSummary =>
    this.statementSummary ?? { lines: this.tally.lines, totals: this.tally.totals };

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
            sql: `INSERT INTO recon_attempt_match (channel_order_id, bill_date)
                  SELECT id, ? FROM channel_order WHERE channel_order_no = ?
                  ON DUPLICATE KEY UPDATE bill_date = VALUES(bill_date)`,
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
