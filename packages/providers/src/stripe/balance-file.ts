/**
 * Stripe's statement as we keep it: the day's balance transactions exactly as the API answered them
 * (the charge or refund each came from expanded, with its payment intent), one JSON record per line,
 * gzip, and the Checkout Session we followed a payment intent to when its metadata did not name our
 * number. Read back as a stream; classified by `reporting_category`, not `type` (a Boleto payment
 * posts as `payment`, a refund as `refund` or `payment_refund`).
 */
import { once } from 'node:events';
import { pipeline } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { StatementUnavailableError, type StatementLine } from '@payments/core';
import { INFLATED_CHUNK_BYTES, type ByteSource } from '../statement-files/bytes';
import { splitLines } from '../statement-files/lines';
import { spoolPath, SpoolWriter, type Spool } from '../statement-files/spool';

/** The fields of an (expanded) balance transaction we read. */
export interface BalanceRecord {
  balance_transaction: {
    id: string;
    amount: number;
    currency: string;
    fee: number;
    created: number;
    type: string;
    reporting_category: string;
    source: null | string | ExpandedSource;
  };
  /** The Checkout Session of the payment intent, when we had to find it (its metadata did not say). */
  checkout_session: null | {
    id: string;
    client_reference_id: string | null;
    metadata: Record<string, string>;
  };
}

interface ExpandedSource {
  id: string;
  object: string;
  metadata?: Record<string, string> | null;
  payment_intent?: null | string | { id: string; metadata?: Record<string, string> | null };
}

const unreadable = (message: string) =>
  new StatementUnavailableError(`Stripe statement: ${message}`, 'UNREADABLE');

/** What `reporting_category` makes of a balance transaction: a payment, a refund, or no trade of ours. */
export function stripeCategory(category: string): 'PAYMENT' | 'REFUND' | 'FEE' | 'OTHER' {
  switch (category) {
    case 'charge':
      return 'PAYMENT';
    case 'refund':
      return 'REFUND';
    case 'fee':
      return 'FEE';
    default:
      // payout, dispute, transfer, adjustments, …: money moved, but no trade or refund of ours.
      return 'OTHER';
  }
}

export const intentOf = (source: BalanceRecord['balance_transaction']['source']) =>
  source && typeof source === 'object' ? (source.payment_intent ?? null) : null;

/** Our attempt's number: the payment intent's metadata (we set it), else the session's reference. */
export function channelOrderNoOf(record: BalanceRecord): string | null {
  const intent = intentOf(record.balance_transaction.source);
  const fromIntent = intent && typeof intent === 'object' ? intent.metadata?.channelOrderNo : undefined;
  const session = record.checkout_session;
  return fromIntent ?? session?.client_reference_id ?? session?.metadata.channelOrderNo ?? null;
}

/**
 * A record as a statement line, or null for a balance transaction that moves no money of a trade or
 * fee of ours (payouts, transfers, disputes' adjustments). A fee Stripe billed on its own
 * (`reporting_category: fee`, e.g. `type: stripe_fee` for Radar or Billing: a negative amount) is a
 * FEE line: amount 0, its cost as the fee (negative when Stripe gave a fee back).
 */
export function stripeLineOf(record: BalanceRecord, source: string): StatementLine | null {
  const bt = record.balance_transaction;
  const kind = stripeCategory(bt.reporting_category);
  if (kind === 'OTHER') return null;
  if (!Number.isSafeInteger(bt.amount) || !Number.isSafeInteger(bt.fee))
    throw unreadable(`${bt.id}: amount ${bt.amount}, fee ${bt.fee}`);
  if (kind === 'FEE')
    return {
      kind,
      providerTradeNo: null,
      channelOrderNo: null,
      refundNo: null,
      providerRefundNo: null,
      amount: 0,
      currency: bt.currency.toUpperCase(),
      fee: bt.fee - bt.amount,
      at: new Date(bt.created * 1000),
      source,
    };
  if (!bt.source || typeof bt.source !== 'object') throw unreadable(`${bt.id}: its source was not expanded`);
  const intent = intentOf(bt.source);
  const common = {
    providerTradeNo: intent ? (typeof intent === 'object' ? intent.id : intent) : null,
    channelOrderNo: channelOrderNoOf(record),
    currency: bt.currency.toUpperCase(),
    fee: bt.fee,
    at: new Date(bt.created * 1000),
    source,
  };
  // Stripe's amounts are already integers of the currency's smallest unit; a refund's is negative.
  return kind === 'PAYMENT'
    ? { kind, ...common, refundNo: null, providerRefundNo: null, amount: bt.amount }
    : {
        kind,
        ...common,
        refundNo: bt.source.metadata?.refundNo ?? null,
        providerRefundNo: bt.source.id,
        amount: -bt.amount,
      };
}

/** Writes records as gzip JSON lines into a spool (what is kept), never holding them. */
export class BalanceFileWriter {
  private readonly gzip = createGzip();
  private readonly spool: SpoolWriter;
  private readonly copied: Promise<void>;

  constructor(date: string) {
    const spool = new SpoolWriter(spoolPath('stripe', date));
    const gzip = this.gzip;
    this.spool = spool;
    this.copied = (async () => {
      for await (const chunk of gzip as AsyncIterable<Buffer>) await spool.write(chunk);
    })();
    this.copied.catch(() => {});
  }

  async write(record: BalanceRecord): Promise<void> {
    if (!this.gzip.write(`${JSON.stringify(record)}\n`)) await once(this.gzip, 'drain');
  }

  async finish(): Promise<Spool> {
    this.gzip.end();
    await this.copied;
    return this.spool.finish();
  }

  /** The listing failed: nothing is kept. */
  async abandon(): Promise<void> {
    this.gzip.destroy();
    await this.spool.abandon();
  }
}

/** The statement's lines, streamed from the kept file. */
export async function* stripeBalanceLines(raw: ByteSource): AsyncGenerator<StatementLine> {
  let lineNo = 0;
  const source = pipeline(
    raw.open(0, raw.byteLength),
    createGunzip({ chunkSize: INFLATED_CHUNK_BYTES }),
    () => {},
  );
  try {
    for await (const bytes of splitLines(source)) {
      lineNo += 1;
      if (bytes.length === 0) continue;
      const record = JSON.parse(bytes.toString('utf8')) as BalanceRecord;
      const line = stripeLineOf(record, record.balance_transaction.id);
      if (line) yield line;
    }
  } catch (error) {
    source.destroy();
    if (error instanceof StatementUnavailableError) throw error;
    throw unreadable(`line ${lineNo}: ${(error as Error).message}`);
  }
}
