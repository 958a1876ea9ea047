/** Statement lines against our attempts and refunds: batched lookups, each line classified and acted on, and what we hold that the statement lacks. */

import type { DataSource } from 'typeorm';

import {
  BridgeBuilder,
  classifyPaymentLine,
  classifyRefundLine,
  differenceId,
  type OurAttempt,
  type OurRefund,
} from './classify';
import { dayBounds, previousDay } from './bill-days';
import { type StatementLine } from './statement';
import type { Run } from './run-state';

interface AttemptDbRow {
  id: string | number;
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

/**
 * Rows by primary key, as few conditions as it takes: ids sorted, each run of consecutive ids one
 * `BETWEEN` (a day's attempts are mostly consecutive), the others one `IN`.
 */
export function idCondition(ids: number[]): { sql: string; params: number[] } {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const ranges: number[] = [];
  const single: number[] = [];
  for (let at = 0; at < sorted.length;) {
    let end = at;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end += 1;
    if (end - at >= 2) ranges.push(sorted[at]!, sorted[end]!);
    else single.push(...sorted.slice(at, end + 1));
    at = end + 1;
  }
  const parts = [
    ...Array.from({ length: ranges.length / 2 }, () => 'id BETWEEN ? AND ?'),
    ...(single.length > 0 ? [`id IN (${placeholders(single.length)})`] : []),
  ];
  return { sql: parts.length > 0 ? `(${parts.join(' OR ')})` : 'FALSE', params: [...ranges, ...single] };
}

/** One batch of lines: our records of them in two round trips, then each line classified and acted on. */
export async function matchBatch(
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
  /** Our attempts' primary keys, so a matched one is marked by its key (not through the number's index again). */
  const ids = new Map<string, number>();
  const columns = 'id, channel_order_no, channel, status, amount, currency, provider_trade_no';
  if (ourNumbers.length > 0)
    for (const row of (await dataSource.query(
      `SELECT ${columns} FROM channel_order WHERE channel_order_no IN (${placeholders(ourNumbers.length)})`,
      ourNumbers,
    )) as AttemptDbRow[]) {
      attempts.set(row.channel_order_no, attemptOf(row));
      ids.set(row.channel_order_no, Number(row.id));
    }
  if (theirNumbers.length > 0)
    for (const row of (await dataSource.query(
      `SELECT ${columns} FROM channel_order WHERE provider_trade_no IN (${placeholders(theirNumbers.length)})
          AND channel IN (${placeholders(channels.length)})`,
      [...theirNumbers, ...channels],
    )) as AttemptDbRow[]) {
      if (row.provider_trade_no) byTradeNo.set(row.provider_trade_no, attemptOf(row));
      ids.set(row.channel_order_no, Number(row.id));
    }
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
    // A fee billed on its own names no trade: nothing to match, its cost is in the run's fees.
    if (line.kind === 'FEE') continue;
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
    const matched = idCondition(matchedAttempts.map((channelOrderNo) => ids.get(channelOrderNo)!));
    await dataSource.query(
      `UPDATE channel_order SET recon_date = ? WHERE ${matched.sql} AND (recon_date IS NULL OR recon_date <> ?)`,
      [run.date, ...matched.params, run.date],
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
export async function findMissingThere(
  run: Run,
  dataSource: DataSource,
  channels: string[],
  timeZone: string,
) {
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
