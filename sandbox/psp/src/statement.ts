/**
 * The sandbox PSP's statement of one day (CONTRACT 11), in a format of its own: JSON lines, one
 * per payment and per refund booked that day (UTC), then one summary line; its SHA-256 travels in
 * the `x-statement-sha256` header. Built from the ledger; pure, so its rules are unit-tested.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Refund, Trade } from './state';

export const statementFaultsSchema = z
  .object({
    /** Answer 409 NOT_READY, as a provider asked for a day it has not closed. */
    notReady: z.boolean(),
    /** Send only the first half of the body (the hash header still names the whole). */
    truncate: z.boolean(),
    /** Send a hash header that is not the body's. */
    wrongHash: z.boolean(),
  })
  .partial()
  .strict();
export type StatementFaults = Required<z.infer<typeof statementFaultsSchema>>;
export const NO_STATEMENT_FAULTS: StatementFaults = { notReady: false, truncate: false, wrongHash: false };

/** The sandbox keeps 0.6% of each payment as its fee (rounded down), nothing of a refund. */
export const feeOf = (amount: number): number => Math.floor((amount * 6) / 1000);

/** The UTC day (YYYY-MM-DD) an instant falls in: the sandbox's bill dates are UTC days. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export interface BuiltStatement {
  body: string;
  sha256: string;
  lines: number;
}

/**
 * The day's lines: a PAID trade on the day it was paid; a SUCCESS refund on the day it was made
 * (whoever asked for it: the API or the portal). Ordered by time, then number.
 */
export function buildStatement(
  date: string,
  trades: Iterable<Trade>,
  refunds: Iterable<Refund>,
  tradeOf: (channelOrderNo: string) => Trade | undefined,
): BuiltStatement {
  const rows: { at: number; key: string; line: Record<string, unknown> }[] = [];
  for (const trade of trades) {
    if (trade.state !== 'PAID' || trade.paidAt === null || utcDay(trade.paidAt) !== date) continue;
    rows.push({
      at: trade.paidAt,
      key: trade.channelOrderNo,
      line: {
        type: 'payment',
        tradeNo: trade.tradeNo,
        channelOrderNo: trade.channelOrderNo,
        amount: trade.amount,
        currency: trade.currency,
        fee: feeOf(trade.amount),
        at: new Date(trade.paidAt).toISOString(),
      },
    });
  }
  for (const refund of refunds) {
    if (refund.status !== 'SUCCESS' || utcDay(refund.createdAt) !== date) continue;
    const trade = tradeOf(refund.channelOrderNo);
    rows.push({
      at: refund.createdAt,
      key: refund.refundNo,
      line: {
        type: 'refund',
        refundNo: refund.refundNo,
        tradeNo: trade?.tradeNo ?? null,
        channelOrderNo: refund.channelOrderNo,
        amount: refund.amount,
        currency: trade?.currency ?? 'CNY',
        fee: 0,
        at: new Date(refund.createdAt).toISOString(),
      },
    });
  }
  rows.sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const totals: Record<string, { payments: number; refunds: number; fees: number }> = {};
  for (const { line } of rows) {
    const currency = line.currency as string;
    const total = (totals[currency] ??= { payments: 0, refunds: 0, fees: 0 });
    if (line.type === 'payment') total.payments += line.amount as number;
    else total.refunds += line.amount as number;
    total.fees += line.fee as number;
  }
  const text = [
    ...rows.map(({ line }) => JSON.stringify(line)),
    JSON.stringify({ type: 'summary', date, lines: rows.length, totals }),
  ].join('\n');
  const body = `${text}\n`;
  return { body, sha256: createHash('sha256').update(body).digest('hex'), lines: rows.length };
}
