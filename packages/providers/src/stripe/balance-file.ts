/**
 * Stripe's statement as we keep it: the day's balance transactions exactly as the API answered them
 * (the charge or refund each came from expanded, with its payment intent), one JSON record per line,
 * gzip, and the Checkout Session we followed a payment intent to when its metadata did not name our
 * number. Read back as a stream; classified by `reporting_category`, not `type` (a Boleto payment
 * posts as `payment`, a refund as `refund` or `payment_refund`).
 */
import { createGunzip, createGzip } from 'node:zlib';
import { StatementUnavailableError, type StatementLine } from '@payments/core';
import { chunksOf, splitLines } from '../statement-files/lines';

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

/** A record as a statement line, or null for a balance transaction that is no trade of ours (fees billed apart, payouts). */
export function stripeLineOf(record: BalanceRecord, source: string): StatementLine | null {
  const bt = record.balance_transaction;
  const kind = stripeCategory(bt.reporting_category);
  if (kind !== 'PAYMENT' && kind !== 'REFUND') return null;
  if (!Number.isSafeInteger(bt.amount) || !Number.isSafeInteger(bt.fee))
    throw unreadable(`${bt.id}: amount ${bt.amount}, fee ${bt.fee}`);
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

/** Writes records as gzip JSON lines, collecting the compressed bytes (what is kept). */
export class BalanceFileWriter {
  private readonly gzip = createGzip();
  private readonly chunks: Buffer[] = [];
  private readonly ended: Promise<void>;

  constructor() {
    this.gzip.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    this.ended = new Promise((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
    });
  }

  write(record: BalanceRecord): void {
    this.gzip.write(`${JSON.stringify(record)}\n`);
  }

  async finish(): Promise<Buffer> {
    this.gzip.end();
    await this.ended;
    return Buffer.concat(this.chunks);
  }
}

/** The statement's lines, streamed from the kept file. */
export async function* stripeBalanceLines(raw: Buffer): AsyncGenerator<StatementLine> {
  let lineNo = 0;
  const source = chunksOf(raw).pipe(createGunzip());
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
