/**
 * Reconciliation's decisions, pure (CONTRACT 11): what one statement line is beside our record of
 * it, whether a statement adds up to its own summary, the stable id of a difference, the verdict
 * of a run and its bridge. No I/O: ./run.ts reads, asks the providers and acts.
 */
import { createHash } from 'node:crypto';
import type { RefundStatus } from '../contracts';
import type { StatementLine, StatementSummary } from './statement';

/** An attempt of ours as a statement line is matched with it. */
export interface OurAttempt {
  channelOrderNo: string;
  channel: string;
  status: 'PAYING' | 'SUCCESS' | 'FAILED' | 'CLOSED';
  amount: number;
  currency: string;
  providerTradeNo: string | null;
}

/** A refund of ours as a statement's refund line is matched with it. */
export interface OurRefund {
  refundNo: string;
  channelOrderNo: string;
  status: RefundStatus;
  amount: number;
  currency: string;
}

/**
 * What a difference is, and so what is done about it:
 * - PAID_THERE_NOT_HERE: confirmed by the provider's query, then settled (kept, or refunded if extra);
 * - REFUND_NOT_SUCCESS_HERE: our refund, confirmed by its query, then finished as SUCCESS;
 * - REFUND_MADE_OUTSIDE: a refund we never asked for (the provider's portal), confirmed, then recorded;
 * - the rest are anomalies for a person, never acted on automatically.
 */
export const DIFFERENCE_KINDS = [
  'PAID_THERE_NOT_HERE',
  'REFUND_NOT_SUCCESS_HERE',
  'REFUND_MADE_OUTSIDE',
  'AMOUNT_MISMATCH',
  'CURRENCY_MISMATCH',
  'UNKNOWN_TRADE',
  'REFUND_MISMATCH',
  'MISSING_THERE',
  'REFUND_MISSING_THERE',
] as const;
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/** Kinds a run acts on (after the provider's query confirms the line); every other kind is for a person. */
export const ACTED_KINDS: readonly DifferenceKind[] = [
  'PAID_THERE_NOT_HERE',
  'REFUND_NOT_SUCCESS_HERE',
  'REFUND_MADE_OUTSIDE',
];

export type LineVerdict = { kind: 'MATCHED' } | { kind: DifferenceKind; reference: string; detail: string };

/** A payment line beside the attempt it names (by our number, else by the provider's). */
export function classifyPaymentLine(line: StatementLine, attempt: OurAttempt | undefined): LineVerdict {
  const reference = line.channelOrderNo ?? line.providerTradeNo ?? line.source;
  if (!attempt)
    return {
      kind: 'UNKNOWN_TRADE',
      reference,
      detail: `paid ${line.amount} ${line.currency}: no attempt of ours`,
    };
  if (attempt.currency !== line.currency)
    return {
      kind: 'CURRENCY_MISMATCH',
      reference: attempt.channelOrderNo,
      detail: `statement ${line.amount} ${line.currency}, ours ${attempt.amount} ${attempt.currency}`,
    };
  if (attempt.amount !== line.amount)
    return {
      kind: 'AMOUNT_MISMATCH',
      reference: attempt.channelOrderNo,
      detail: `statement ${line.amount} ${line.currency}, ours ${attempt.amount} ${attempt.currency}`,
    };
  if (attempt.status === 'SUCCESS') return { kind: 'MATCHED' };
  return {
    kind: 'PAID_THERE_NOT_HERE',
    reference: attempt.channelOrderNo,
    detail: `paid ${line.amount} ${line.currency} there, ${attempt.status} here`,
  };
}

/** A refund line beside our refund of that number and the attempt it returns money of. */
export function classifyRefundLine(
  line: StatementLine,
  refund: OurRefund | undefined,
  attempt: OurAttempt | undefined,
): LineVerdict {
  const reference = line.refundNo ?? line.providerRefundNo ?? line.source;
  if (refund) {
    if (refund.currency !== line.currency || refund.amount !== line.amount)
      return {
        kind: 'REFUND_MISMATCH',
        reference,
        detail: `statement ${line.amount} ${line.currency}, ours ${refund.amount} ${refund.currency}`,
      };
    if (refund.status === 'SUCCESS') return { kind: 'MATCHED' };
    return {
      kind: 'REFUND_NOT_SUCCESS_HERE',
      reference,
      detail: `refunded ${line.amount} ${line.currency} there, ${refund.status} here`,
    };
  }
  if (!attempt)
    return {
      kind: 'UNKNOWN_TRADE',
      reference,
      detail: `refund of ${line.amount} ${line.currency} on a trade we never created`,
    };
  return {
    kind: 'REFUND_MADE_OUTSIDE',
    reference,
    detail: `refunded ${line.amount} ${line.currency} of ${attempt.channelOrderNo}, never asked by us`,
  };
}

/** A difference keeps its id across runs and days: the same provider, kind and reference. */
export function differenceId(provider: string, kind: DifferenceKind, reference: string): string {
  return `rd_${createHash('sha256').update(`${provider}\n${kind}\n${reference}`).digest('hex').slice(0, 23)}`;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d{1,10}))?$/;
const TEN_PLACES = 1e10;

/** A decimal as written (`0.11994`), scaled to 10^-10 as a bigint, so exact sums are exact. */
function scaledDecimal(text: string): bigint {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new Error(`not a decimal: ${text}`);
  const value = BigInt(match[2]!) * 10n ** 10n + BigInt((match[3] ?? '').padEnd(10, '0'));
  return match[1] === '-' ? -value : value;
}

/**
 * An exact sum of decimals of up to 10 places, held as two safe integers (whole units and
 * 10^-10 units, the latter carried into the former past one unit), so a million lines cost a
 * million Number additions instead of a million BigInt ones (about 1.5 s per million here).
 */
export class ExactDecimalSum {
  private whole = 0;
  private fraction = 0;

  add(text: string): void {
    const match = DECIMAL.exec(text.trim());
    if (!match || match[2]!.length > 15) throw new Error(`not a decimal: ${text}`);
    const sign = match[1] === '-' ? -1 : 1;
    this.whole += sign * Number(match[2]);
    this.fraction += sign * Number((match[3] ?? '').padEnd(10, '0'));
    if (this.fraction >= TEN_PLACES || this.fraction <= -TEN_PLACES) {
      const carry = Math.trunc(this.fraction / TEN_PLACES);
      this.whole += carry;
      this.fraction -= carry * TEN_PLACES;
    }
    if (!Number.isSafeInteger(this.whole)) throw new Error(`decimal sum too large at ${text}`);
  }

  /** The sum at 10^-10, as `scaledDecimal` gives one decimal. */
  get scaled(): bigint {
    return BigInt(this.whole) * 10n ** 10n + BigInt(this.fraction);
  }
}

/** What the lines add up to, per currency, as a statement's summary states it. */
export class StatementTally {
  lines = 0;
  readonly totals: Record<string, { payments: number; refunds: number; fees: number }> = {};
  /** Per currency, the exact fees as written (when every line of it gave one). */
  private readonly exactFees = new Map<string, ExactDecimalSum | null>();

  add(line: StatementLine): void {
    this.lines += 1;
    const total = (this.totals[line.currency] ??= { payments: 0, refunds: 0, fees: 0 });
    if (line.kind === 'PAYMENT') total.payments += line.amount;
    else if (line.kind === 'REFUND') total.refunds += line.amount;
    total.fees += line.fee;
    let exact = this.exactFees.get(line.currency);
    if (exact === undefined) this.exactFees.set(line.currency, (exact = new ExactDecimalSum()));
    if (exact === null) return;
    if (line.exactFee === undefined) this.exactFees.set(line.currency, null);
    else exact.add(line.exactFee);
  }

  /** The exact fee total of a currency, when every line of it wrote one. */
  exactFeesOf(currency: string): bigint | null {
    return this.exactFees.get(currency)?.scaled ?? null;
  }
}

/**
 * Where parsed lines and a statement's own summary disagree (empty: they agree). Fees written with
 * more decimals than minor units (WeChat Pay) are compared exactly, as written, when the summary
 * and every line give them: their rounded sum may differ from the summary's rounded total.
 */
export function summaryDisagreements(summary: StatementSummary | null, tally: StatementTally): string[] {
  if (!summary) return [];
  const problems: string[] = [];
  if (summary.lines !== tally.lines)
    problems.push(`summary says ${summary.lines} lines, ${tally.lines} read`);
  const currencies = new Set([...Object.keys(summary.totals), ...Object.keys(tally.totals)]);
  for (const currency of [...currencies].sort()) {
    const said = summary.totals[currency] ?? { payments: 0, refunds: 0, fees: 0 };
    const read = tally.totals[currency] ?? { payments: 0, refunds: 0, fees: 0 };
    for (const field of ['payments', 'refunds'] as const)
      if (said[field] !== read[field])
        problems.push(`${currency} ${field}: summary says ${said[field]}, ${read[field]} read`);
    const exactRead = tally.exactFeesOf(currency);
    if (said.exactFees !== undefined && exactRead !== null) {
      if (scaledDecimal(said.exactFees) !== exactRead)
        problems.push(
          `${currency} fees: summary says ${said.exactFees} exactly, the lines add up to another`,
        );
    } else if (said.fees !== read.fees)
      problems.push(`${currency} fees: summary says ${said.fees}, ${read.fees} read`);
  }
  return problems;
}

export type Verdict = 'INCOMPLETE' | 'BREAKS' | 'RECONCILED_WITH_PENDING' | 'RECONCILED';

/** A run's verdict from what it left open: breaks first, then items inside their grace. */
export function verdictOf(open: { breaks: number; pending: number }): Exclude<Verdict, 'INCOMPLETE'> {
  if (open.breaks > 0) return 'BREAKS';
  if (open.pending > 0) return 'RECONCILED_WITH_PENDING';
  return 'RECONCILED';
}

/**
 * The bridge of one currency: the statement's net (payments less refunds) through every line's
 * explanation (matched, or each kind of difference) to a residual, which is 0 when every line was
 * explained exactly once. Fees are their own line, never netted into the amounts.
 */
export interface Bridge {
  currency: string;
  statementPayments: number;
  statementRefunds: number;
  statementNet: number;
  fees: number;
  matched: number;
  explained: Partial<Record<DifferenceKind, number>>;
  residual: number;
}

export class BridgeBuilder {
  private readonly bridges = new Map<string, Bridge>();

  /**
   * `statement`: what the statement says it holds (its summary; without one, what its lines add
   * up to), read when the result is asked for, so it may be known only once every line was read.
   */
  constructor(private readonly statement: StatementSummary | null | (() => StatementSummary | null)) {}

  private of(currency: string): Bridge {
    let bridge = this.bridges.get(currency);
    if (!bridge) {
      bridge = {
        currency,
        statementPayments: 0,
        statementRefunds: 0,
        statementNet: 0,
        fees: 0,
        matched: 0,
        explained: {},
        residual: 0,
      };
      this.bridges.set(currency, bridge);
    }
    return bridge;
  }

  /** One line and what it was found to be: its signed amount goes to that explanation. */
  add(line: StatementLine, verdict: LineVerdict['kind']): void {
    const bridge = this.of(line.currency);
    const signed = line.kind === 'PAYMENT' ? line.amount : -line.amount;
    if (verdict === 'MATCHED') bridge.matched += signed;
    else bridge.explained[verdict] = (bridge.explained[verdict] ?? 0) + signed;
  }

  result(): Bridge[] {
    const statement = typeof this.statement === 'function' ? this.statement() : this.statement;
    for (const currency of Object.keys(statement?.totals ?? {})) this.of(currency);
    return [...this.bridges.values()]
      .map((bridge) => {
        const said = statement?.totals[bridge.currency];
        const statementNet = (said?.payments ?? 0) - (said?.refunds ?? 0);
        const explained = Object.values(bridge.explained).reduce((sum, value) => sum + (value ?? 0), 0);
        return {
          ...bridge,
          statementPayments: said?.payments ?? 0,
          statementRefunds: said?.refunds ?? 0,
          statementNet,
          fees: said?.fees ?? 0,
          residual: statementNet - bridge.matched - explained,
        };
      })
      .sort((a, b) => (a.currency < b.currency ? -1 : 1));
  }
}
