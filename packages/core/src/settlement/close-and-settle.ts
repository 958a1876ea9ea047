import type { DataSource } from 'typeorm';
import type { AttemptRef } from '../domain/attempt';
import { meaningOfClose, type CloseResult } from '../domain/provider-answer';
import { attemptFacts, attemptRef, type AttemptRow } from './attempt-row';
import { settleAttempt, type SettleResult } from './settlement';

export type CloseAndSettle =
  | { closed: true; result: SettleResult | undefined }
  | { closed: false; paid: true; result: SettleResult | undefined }
  | {
      closed: false;
      paid: false;
      /** A voucher; nothing found yet (the create may still arrive); the shopper is paying right now. */
      reason: 'NOT_SUPPORTED' | 'NOT_FOUND_YET' | 'IN_PAYMENT';
      result?: undefined;
    };

/** What closing needs of a provider channel. */
export interface TradeCloser {
  closeTrade(attempt: AttemptRef): Promise<CloseResult>;
}

/**
 * Closes an attempt at its provider and settles what the provider answered, as `meaningOfClose`
 * reads it: closed → CLOSED; already paid → settled as a success (the money was taken); anything
 * else leaves the attempt in flight for the poller. Provider errors propagate (transient).
 */
export async function closeAndSettle(
  dataSource: DataSource,
  channel: TradeCloser,
  attempt: Pick<AttemptRow, 'channel_order_no' | 'provider_trade_no' | 'pay_url' | 'expire_at'>,
  now: Date = new Date(),
): Promise<CloseAndSettle> {
  const answer = await channel.closeTrade(attemptRef(attempt));
  const meaning = meaningOfClose(answer, attemptFacts(attempt), now);
  if (meaning.kind === 'OPEN') return { closed: false, paid: false, reason: meaning.reason };
  const result = await settleAttempt(dataSource, attempt.channel_order_no, meaning.outcome);
  return meaning.kind === 'PAID' ? { closed: false, paid: true, result } : { closed: true, result };
}
