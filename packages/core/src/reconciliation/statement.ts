/**
 * The seam of reconciliation (CONTRACT 11, issue 29): what a provider's statement of one day is to
 * us, whatever its format. Each provider folder (packages/providers/src/<name>/statement.ts)
 * fetches its statement as the provider documents it, verifies it (hash, summary), and reads it
 * into these lines, streamed; the engine (./engine) matches them with our attempts and refunds.
 */

/** One line of a provider's statement, in integer minor units (never floats). */
export interface StatementLine {
  /**
   * PAYMENT and REFUND name a trade; FEE is a fee the provider billed on its own, naming no trade
   * of ours (Stripe's `reporting_category: fee` balance transactions: Radar, Billing, …): its
   * `amount` is 0 and what it cost is its `fee`.
   */
  kind: 'PAYMENT' | 'REFUND' | 'FEE';
  /** The provider's own number of the trade (Alipay 支付宝交易号, WeChat transaction_id, Stripe payment intent). */
  providerTradeNo: string | null;
  /** Our number of the attempt (out_trade_no: `co_…`), when the line names it. */
  channelOrderNo: string | null;
  /** Our refund number (`rf_…`: out_request_no / out_refund_no / metadata.refundNo), for a refund line. */
  refundNo: string | null;
  /** The provider's own number of a refund, when it has one. */
  providerRefundNo: string | null;
  /** What moved, positive, in minor units of `currency` (a refund line: the amount returned). */
  amount: number;
  /** ISO 4217, upper case. */
  currency: string;
  /** The provider's fee on this line, in minor units (0 when none; negative when returned to us). */
  fee: number;
  /** When the provider booked it. */
  at: Date;
  /** Where in the raw statement it came from (line number or id), for the report. */
  source: string;
  /**
   * The line's status is a snapshot of the statement's day, not an end (a WeChat Pay refund row
   * still PROCESSING): confirm it with the provider's query later, never flag it as a difference.
   * Absent: the line is final.
   */
  provisional?: boolean;
  /**
   * The fee as the statement wrote it, when the statement writes fees with more decimals than the
   * currency's minor units (WeChat Pay: five, `0.11994` yuan), on every line of such a statement,
   * whole or not: `fee` is then rounded half away from zero. Absent: `fee` is exact as written.
   */
  exactFee?: string;
}

/** What the statement says of itself (its summary rows): the engine checks the parsed lines add up to it. */
export interface StatementSummary {
  lines: number;
  /** Per currency: payments, refunds and fees, in minor units. */
  totals: Record<
    string,
    {
      payments: number;
      refunds: number;
      fees: number;
      /** The fee total as written, when the statement writes more decimals than minor units (`fees` rounded as a line's fee is). */
      exactFees?: string;
    }
  >;
}

/**
 * The raw statement as downloaded, spooled to a temporary file while it was hashed: never held
 * whole in memory (a statement of a million lines is read as streams, as often as needed).
 */
export interface RawStatement {
  /** Where the bytes are spooled, until the statement is disposed of. */
  readonly path: string;
  readonly byteLength: number;
  /** The bytes, streamed from the spool. */
  open(): AsyncIterable<Buffer>;
}

/** A day's statement as fetched: its raw bytes spooled with their SHA-256, its lines read from them. */
export interface FetchedStatement {
  provider: string;
  /** YYYY-MM-DD in the provider's own time zone. */
  date: string;
  /** The bytes as downloaded (kept, so any day can be replayed), and their SHA-256 (hex). */
  raw: RawStatement;
  sha256: string;
  /** The lines, read from `raw` as a stream. */
  lines(): AsyncIterable<StatementLine>;
  /** The statement's own summary, if it has one. */
  summary: StatementSummary | null;
  /** Removes the spooled raw statement: the run calls it as it ends, done or failed (again: a no-op). */
  dispose(): Promise<void>;
}

/**
 * Thrown when a statement is not (yet) there or cannot be trusted: not ready (asked too early),
 * a truncated download, a wrong hash, an unreadable file. The run changes nothing and says so.
 */
export class StatementUnavailableError extends Error {
  override readonly name = 'StatementUnavailableError';
  constructor(
    message: string,
    readonly reason: 'NOT_READY' | 'UNREADABLE' | 'HASH_MISMATCH' | 'FETCH_FAILED',
  ) {
    super(message);
  }
}

/** A provider that can fetch its statement of a day (an optional part of `PaymentProvider`). */
export interface StatementSource {
  /** The provider's time zone, in which its bill dates are days (Asia/Shanghai, UTC, …). */
  readonly timeZone: string;
  fetchStatement(date: string): Promise<FetchedStatement>;
}
