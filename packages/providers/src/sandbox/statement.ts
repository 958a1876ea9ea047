/**
 * The sandbox PSP's statement of a day (CONTRACT 11): `GET /sandbox/statements?date=` (Bearer
 * secret) answers JSON lines, a summary line last, and the body's SHA-256 in `x-statement-sha256`.
 * A wrong hash, a body without its summary line (truncated) or a line that does not parse is a
 * statement we cannot trust: StatementUnavailableError, and the run changes nothing.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  StatementUnavailableError,
  type FetchedStatement,
  type StatementLine,
  type StatementSource,
  type StatementSummary,
} from '@payments/core';

const paymentLine = z.object({
  type: z.literal('payment'),
  tradeNo: z.string(),
  channelOrderNo: z.string(),
  amount: z.number().int().nonnegative(),
  currency: z.string(),
  fee: z.number().int(),
  at: z.string(),
});
const refundLine = z.object({
  type: z.literal('refund'),
  refundNo: z.string(),
  tradeNo: z.string().nullable(),
  channelOrderNo: z.string(),
  amount: z.number().int().nonnegative(),
  currency: z.string(),
  fee: z.number().int(),
  at: z.string(),
});
const summaryLine = z.object({
  type: z.literal('summary'),
  date: z.string(),
  lines: z.number().int().nonnegative(),
  totals: z.record(
    z.string(),
    z.object({ payments: z.number().int(), refunds: z.number().int(), fees: z.number().int() }),
  ),
});
const statementLine = z.discriminatedUnion('type', [paymentLine, refundLine, summaryLine]);

/** One JSON line of the statement as ours, or the summary (null for a blank line). */
export function readSandboxLine(text: string, lineNo: number): StatementLine | StatementSummary | null {
  if (text.trim() === '') return null;
  let parsed;
  try {
    parsed = statementLine.parse(JSON.parse(text));
  } catch (error) {
    throw new StatementUnavailableError(
      `sandbox statement line ${lineNo} unreadable: ${(error as Error).message.slice(0, 200)}`,
      'UNREADABLE',
    );
  }
  switch (parsed.type) {
    case 'summary':
      return { lines: parsed.lines, totals: parsed.totals };
    case 'payment':
      return {
        kind: 'PAYMENT',
        providerTradeNo: parsed.tradeNo,
        channelOrderNo: parsed.channelOrderNo,
        refundNo: null,
        providerRefundNo: null,
        amount: parsed.amount,
        currency: parsed.currency.toUpperCase(),
        fee: parsed.fee,
        at: new Date(parsed.at),
        source: `line ${lineNo}`,
      };
    case 'refund':
      return {
        kind: 'REFUND',
        providerTradeNo: parsed.tradeNo,
        channelOrderNo: parsed.channelOrderNo,
        refundNo: parsed.refundNo,
        providerRefundNo: null,
        amount: parsed.amount,
        currency: parsed.currency.toUpperCase(),
        fee: parsed.fee,
        at: new Date(parsed.at),
        source: `line ${lineNo}`,
      };
    default: {
      const unknown: never = parsed;
      throw new Error(`unknown statement line ${String(unknown)}`);
    }
  }
}

/** Each line of `raw` with its number, one at a time (never the whole file split at once). */
export function* rawLines(raw: Buffer): Generator<{ text: string; lineNo: number }> {
  let start = 0;
  let lineNo = 0;
  while (start < raw.length) {
    let end = raw.indexOf(10, start);
    if (end === -1) end = raw.length;
    lineNo += 1;
    yield { text: raw.toString('utf8', start, end), lineNo };
    start = end + 1;
  }
}

/** A statement already downloaded and checked against its hash, read as ours. */
export function sandboxStatement(date: string, raw: Buffer, sha256: string): FetchedStatement {
  // The summary is the last line; a body cut short has none (or a broken one).
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 10) end -= 1;
  const lastStart = raw.lastIndexOf(10, end - 1) + 1;
  const last = end > 0 ? readSandboxLine(raw.toString('utf8', lastStart, end), -1) : null;
  if (last === null || 'kind' in last)
    throw new StatementUnavailableError(
      `sandbox statement of ${date} has no summary line (truncated?)`,
      'UNREADABLE',
    );
  return {
    provider: 'sandbox',
    date,
    raw,
    sha256,
    summary: last,
    async *lines() {
      for (const { text, lineNo } of rawLines(raw)) {
        const line = readSandboxLine(text, lineNo);
        if (line !== null && 'kind' in line) yield line;
      }
    },
  };
}

export class SandboxStatements implements StatementSource {
  readonly timeZone = 'UTC';

  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
    private readonly timeoutMs: number,
  ) {}

  async fetchStatement(date: string): Promise<FetchedStatement> {
    let response: Response;
    try {
      response = await fetch(new URL(`/sandbox/statements?date=${encodeURIComponent(date)}`, this.baseUrl), {
        headers: { authorization: `Bearer ${this.secret}` },
        signal: AbortSignal.timeout(Math.max(this.timeoutMs, 30_000)),
      });
    } catch (error) {
      throw new StatementUnavailableError(
        `sandbox statement of ${date} unreachable: ${(error as Error).message}`,
        'FETCH_FAILED',
      );
    }
    const raw = Buffer.from(await response.arrayBuffer());
    if (response.status === 409)
      throw new StatementUnavailableError(`sandbox statement of ${date} is not ready`, 'NOT_READY');
    if (response.status !== 200)
      throw new StatementUnavailableError(
        `sandbox statement of ${date}: ${response.status} ${raw.toString('utf8', 0, 200)}`,
        'FETCH_FAILED',
      );
    const sha256 = createHash('sha256').update(raw).digest('hex');
    const told = response.headers.get('x-statement-sha256');
    if (told !== sha256)
      throw new StatementUnavailableError(
        `sandbox statement of ${date}: SHA-256 ${sha256} is not the ${told ?? 'missing'} it was sent with`,
        'HASH_MISMATCH',
      );
    return sandboxStatement(date, raw, sha256);
  }
}
