import type { AttemptRef, CreateTradeRequest } from '../domain/attempt';
import type { AttemptFacts } from '../domain/provider-answer';
import type { AttemptState } from '../domain/settle';

/** One `channel_order` row: an attempt at one provider channel, as the database holds it. */
export interface AttemptRow {
  id: number;
  channel_order_no: string;
  pay_order_id: number;
  merchant_order_no: string;
  channel: string;
  amount: number;
  currency: string;
  status: 'PAYING' | 'SUCCESS' | 'FAILED' | 'CLOSED';
  pay_url: string | null;
  /** `qr` or `redirect` once created (the pay action's kind; `pay_url` holds its target). */
  pay_action_type: string | null;
  /** The provider's own reference, once known. */
  provider_trade_no: string | null;
  expire_at: Date;
  poll_count: number;
  /** 1 once the poller gave up on it and parked its message for a person. */
  needs_review: number;
  /** What its provider create was asked (fixed once: a retry sends the same; null for older rows). */
  subject: string | null;
  return_url: string | null;
  /** 0 when its channel cannot refund through the provider (a Boleto voucher). */
  refundable: number;
  /** When the poller claimed the close of this never-confirmed attempt; a confirmation then loses. */
  close_claimed_at: Date | null;
  created_at: Date;
}

/** How a provider knows an attempt row. */
export function attemptRef(attempt: Pick<AttemptRow, 'channel_order_no' | 'provider_trade_no'>): AttemptRef {
  return { channelOrderNo: attempt.channel_order_no, providerTradeNo: attempt.provider_trade_no ?? null };
}

/** The facts about an attempt row that decide what a provider's answer means. */
export function attemptFacts(attempt: Pick<AttemptRow, 'pay_url' | 'expire_at'>): AttemptFacts {
  return { createConfirmed: attempt.pay_url !== null, expireAt: new Date(attempt.expire_at) };
}

/** An attempt row as settling (and the refunder's hard checks) read it. */
export function attemptState(
  attempt: Pick<AttemptRow, 'channel_order_no' | 'status' | 'amount' | 'currency' | 'refundable'>,
): AttemptState {
  return {
    channelOrderNo: attempt.channel_order_no,
    status: attempt.status,
    amount: Number(attempt.amount),
    currency: attempt.currency,
    refundable: Number(attempt.refundable) === 1,
  };
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
