/**
 * The sandbox PSP's statement of a day (CONTRACT 11): `GET /sandbox/statements?date=` (Bearer
 * secret) answers JSON lines, a summary line last, and the body's SHA-256 in `x-statement-sha256`.
 * A wrong hash, a body without its summary line (truncated) or a line that does not parse is a
 * statement we cannot trust: StatementUnavailableError, and the run changes nothing.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  StatementUnavailableError,
  type FetchedStatement,
  type StatementLine,
  type StatementSource,
  type StatementSummary,
} from '@payments/core';
import type { ByteSource } from '../statement-files/bytes';
import { fetchedStatement } from '../statement-files/fetched';
import { splitLines } from '../statement-files/lines';
import { removedOnFailure, spoolStream, type Spool } from '../statement-files/spool';

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

/** Each line of `raw` with its number, streamed (never the whole file split at once). */
export async function* rawLines(raw: ByteSource): AsyncGenerator<{ text: string; lineNo: number }> {
  let lineNo = 0;
  for await (const bytes of splitLines(raw.open(0, raw.byteLength))) {
    lineNo += 1;
    yield { text: bytes.toString('utf8'), lineNo };
  }
}

/** The last line of `raw` that is not blank (read from its end), or null. */
async function lastLine(raw: ByteSource): Promise<string | null> {
  let end = raw.byteLength;
  for (let size = 64 * 1024; ; size *= 4) {
    const from = Math.max(0, end - size);
    const tail = await raw.read(from, raw.byteLength - from);
    let last = tail.length;
    while (last > 0 && (tail[last - 1] === 10 || tail[last - 1] === 13)) last -= 1;
    const start = tail.lastIndexOf(10, last - 1);
    if (start >= 0 || from === 0) return last > 0 ? tail.toString('utf8', start + 1, last) : null;
    end = from;
  }
}

/** A statement already downloaded (spooled) and checked against its hash, read as ours. */
export async function sandboxStatement(date: string, raw: Spool): Promise<FetchedStatement> {
  // The summary is the last line; a body cut short has none (or a broken one).
  const summary = await removedOnFailure(raw, async () => {
    const text = await lastLine(raw);
    const last = text === null ? null : readSandboxLine(text, -1);
    if (last === null || 'kind' in last)
      throw new StatementUnavailableError(
        `sandbox statement of ${date} has no summary line (truncated?)`,
        'UNREADABLE',
      );
    return last;
  });
  return fetchedStatement('sandbox', date, raw, summary, () => sandboxLines(raw));
}

/** The statement's lines (the summary skipped), streamed from its raw bytes. */
export async function* sandboxLines(raw: ByteSource): AsyncGenerator<StatementLine> {
  for await (const { text, lineNo } of rawLines(raw)) {
    const line = readSandboxLine(text, lineNo);
    if (line !== null && 'kind' in line) yield line;
  }
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
    if (response.status === 409) {
      await response.body?.cancel();
      throw new StatementUnavailableError(`sandbox statement of ${date} is not ready`, 'NOT_READY');
    }
    if (response.status !== 200)
      throw new StatementUnavailableError(
        `sandbox statement of ${date}: ${response.status} ${(await response.text()).slice(0, 200)}`,
        'FETCH_FAILED',
      );
    let raw: Spool;
    try {
      raw = await spoolStream('sandbox', date, response.body ? Readable.fromWeb(response.body as never) : []);
    } catch (error) {
      throw new StatementUnavailableError(
        `sandbox statement of ${date} cut: ${(error as Error).message}`,
        'UNREADABLE',
      );
    }
    const told = response.headers.get('x-statement-sha256');
    if (told !== raw.sha256) {
      await raw.remove();
      throw new StatementUnavailableError(
        `sandbox statement of ${date}: SHA-256 ${raw.sha256} is not the ${told ?? 'missing'} it was sent with`,
        'HASH_MISMATCH',
      );
    }
    return sandboxStatement(date, raw);
  }
}
