import type { DataSource } from 'typeorm';
import { settleAttempt, type AttemptRow, type SettleResult } from '../db/settlement';
import { meaningOfNotFound, type AttemptFacts } from '../domain/provider-answer';
import type { AttemptRef, CreateTradeRequest, PaymentChannel } from './payment-channel';

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

/** How a provider knows an attempt row. */
export function attemptRef(attempt: Pick<AttemptRow, 'channel_order_no' | 'provider_trade_no'>): AttemptRef {
  return { channelOrderNo: attempt.channel_order_no, providerTradeNo: attempt.provider_trade_no ?? null };
}

/**
 * The provider create of an attempt row, exactly as first asked: the subject and return URL stored
 * with it, its expiry, and its recording time as `requestedAt`. `asked` fills what rows recorded
 * before these were stored lack; without it such a row gives undefined.
 */
export function createRequestOf(
  attempt: Pick<
    AttemptRow,
    | 'channel_order_no'
    | 'merchant_order_no'
    | 'amount'
    | 'currency'
    | 'expire_at'
    | 'created_at'
    | 'subject'
    | 'return_url'
  >,
  notifyUrl: string,
  asked?: { subject: string; returnUrl?: string },
): CreateTradeRequest | undefined {
  const subject = attempt.subject ?? asked?.subject;
  if (subject === undefined) return undefined;
  const returnUrl = attempt.subject !== null ? attempt.return_url : asked?.returnUrl;
  return {
    channelOrderNo: attempt.channel_order_no,
    merchantOrderNo: attempt.merchant_order_no,
    money: { amount: Number(attempt.amount), currency: attempt.currency },
    subject,
    expireAt: new Date(attempt.expire_at),
    notifyUrl,
    ...(returnUrl ? { returnUrl } : {}),
    requestedAt: new Date(attempt.created_at),
  };
}

/** The facts about an attempt row that decide what a provider's answer means. */
export function attemptFacts(attempt: Pick<AttemptRow, 'pay_url' | 'expire_at'>): AttemptFacts {
  return { createConfirmed: attempt.pay_url !== null, expireAt: new Date(attempt.expire_at) };
}

/**
 * Closes an attempt at its provider and settles what the provider answered: closed → CLOSED;
 * already paid → settled as a success (the money was taken). "Not found" ends the attempt only
 * once it can no longer be paid (see `meaningOfNotFound`): before that a create may still reach
 * the provider, so the attempt stays in flight for the poller. A channel that cannot close leaves
 * the attempt in flight too, and so does a provider that answers that the shopper is paying right
 * now (WeChat Pay `202 USER_PAYING`). Provider errors propagate (transient).
 */
export async function closeAndSettle(
  dataSource: DataSource,
  channel: PaymentChannel,
  attempt: Pick<AttemptRow, 'channel_order_no' | 'provider_trade_no' | 'pay_url' | 'expire_at'>,
  now: Date = new Date(),
): Promise<CloseAndSettle> {
  const channelOrderNo = attempt.channel_order_no;
  const answer = await channel.closeTrade(attemptRef(attempt));
  switch (answer.result) {
    case 'CLOSED':
      return { closed: true, result: await settleAttempt(dataSource, channelOrderNo, { status: 'CLOSED' }) };
    case 'NOT_FOUND':
      if (meaningOfNotFound(attemptFacts(attempt), now) === 'NOT_YET')
        return { closed: false, paid: false, reason: 'NOT_FOUND_YET' };
      return { closed: true, result: await settleAttempt(dataSource, channelOrderNo, { status: 'CLOSED' }) };
    case 'ALREADY_PAID':
      return {
        closed: false,
        paid: true,
        result: await settleAttempt(dataSource, channelOrderNo, answer.outcome),
      };
    case 'NOT_SUPPORTED':
      return { closed: false, paid: false, reason: 'NOT_SUPPORTED' };
    case 'IN_PAYMENT':
      // Not closed, and it may still be paid: the attempt stays in flight, and the poller settles
      // what it becomes (kept if first, refunded if extra, as any payment after a close).
      return { closed: false, paid: false, reason: 'IN_PAYMENT' };
    default: {
      const unknown: never = answer;
      throw new Error(`unknown close result ${JSON.stringify(unknown)}`);
    }
  }
}
