/**
 * Money waiting on a channel this process cannot serve (issue 27.3): attempts still in flight and
 * refunds still owed on a channel whose provider has no settings here. Found at start, so the
 * operator is told which channel and which orders; the messages about them wait (never dead-lettered).
 */
import type { DataSource } from 'typeorm';
import { sqlQuery, type Logger } from '@payments/platform';

export interface UnservedChannel {
  channel: string;
  /** Merchant order numbers with an attempt in flight (PAYING) on it. */
  inFlight: string[];
  /** Refund numbers still owed through it (PROCESSING, or waiting for approval). */
  refundsOwed: string[];
}

/** How many order and refund numbers a log line names per channel (the counts are always whole). */
const NAMED = 50;

export async function unservedChannels(
  dataSource: DataSource,
  served: readonly string[],
): Promise<UnservedChannel[]> {
  const notServed = served.length > 0 ? `channel NOT IN (${served.map(() => '?').join(', ')})` : 'TRUE';
  const attempts = await sqlQuery<{ channel: string; merchant_order_no: string }[]>(
    dataSource,
    `SELECT channel, merchant_order_no FROM channel_order WHERE status = 'PAYING' AND ${notServed} ORDER BY id`,
    served,
  );
  const refunds = await sqlQuery<{ channel: string; refund_no: string }[]>(
    dataSource,
    `SELECT channel, refund_no FROM refund_order
      WHERE status IN ('PROCESSING', 'PENDING_APPROVAL') AND ${notServed} ORDER BY id`,
    served,
  );
  const byChannel = new Map<string, UnservedChannel>();
  const entry = (channel: string) => {
    let found = byChannel.get(channel);
    if (!found) byChannel.set(channel, (found = { channel, inFlight: [], refundsOwed: [] }));
    return found;
  };
  for (const row of attempts) entry(row.channel).inFlight.push(row.merchant_order_no);
  for (const row of refunds) entry(row.channel).refundsOwed.push(row.refund_no);
  return [...byChannel.values()];
}

/**
 * Logs an error per channel with money waiting that no provider here serves, naming the orders.
 * The process still starts (the other channels take payments), and the waiting messages are
 * delayed, never dead-lettered: giving the channel's provider settings and restarting serves them.
 */
export async function reportUnservedChannels(
  dataSource: DataSource,
  served: readonly string[],
  log: Logger,
): Promise<UnservedChannel[]> {
  const unserved = await unservedChannels(dataSource, served);
  for (const { channel, inFlight, refundsOwed } of unserved)
    log.error(
      {
        channel,
        attemptsInFlight: inFlight.length,
        merchantOrderNos: [...new Set(inFlight)].slice(0, NAMED),
        refundsOwed: refundsOwed.length,
        refundNos: refundsOwed.slice(0, NAMED),
      },
      `channel ${channel} has money waiting (${inFlight.length} attempt(s) in flight, ${refundsOwed.length} refund(s) owed) but its provider is not configured here: give its settings and restart; until then its notifications are refused and its polls and refunds wait`,
    );
  return unserved;
}
