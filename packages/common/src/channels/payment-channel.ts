import type { ProviderOutcome } from '../domain/settle';

/** Money crosses the seam in integer minor units of its ISO 4217 currency; each adapter converts exactly. */
export interface Money {
  amount: number;
  currency: string;
}

/** What the shopper is given to pay with (CONTRACT 9 `payAction`). */
export type PayAction = { type: 'qr'; content: string } | { type: 'redirect'; url: string };

/** The URL or QR content of a pay action: the apply answer's `payUrl`. */
export function payActionTarget(action: PayAction): string {
  return action.type === 'qr' ? action.content : action.url;
}

/** Where `channel`'s provider notifies us: `<GATEWAY_PUBLIC_URL>/v1/notify/<route>`. */
export function notifyUrlOf(channel: Pick<PaymentChannel, 'notifyRoute'>, gatewayPublicUrl: string): string {
  return new URL(`/v1/notify/${channel.notifyRoute}`, gatewayPublicUrl).toString();
}

/** An attempt as a provider knows it: our out-trade-no, and the provider's own reference once known. */
export interface AttemptRef {
  channelOrderNo: string;
  providerTradeNo: string | null;
}

export interface CreateTradeRequest {
  channelOrderNo: string;
  merchantOrderNo: string;
  money: Money;
  subject: string;
  /** The order's remaining validity becomes the trade's expiry. */
  expireAt: Date;
  notifyUrl: string;
  /** Where a redirect channel sends the shopper back (the apply's `returnUrl`). */
  returnUrl?: string;
  /**
   * When the attempt was recorded. Everything a create derives from time is derived from this, and
   * every other field is stored with the attempt, so a retry of the create (a second apply, the
   * poller recovering a lost answer) sends exactly the same request: providers refuse a repeated
   * key with other parameters (Stripe `idempotency_error`, WeChat Pay `OUT_TRADE_NO_USED`, Alipay
   * `ACQ.CONTEXT_INCONSISTENT`).
   */
  requestedAt: Date;
}

export interface CreatedTrade {
  payAction: PayAction;
  /** The provider's own reference, when its create answer names one. */
  providerTradeNo: string | null;
}

export type CloseResult =
  | { result: 'CLOSED' }
  /** The shopper paid before the close reached the provider. */
  | { result: 'ALREADY_PAID'; outcome: ProviderOutcome }
  /** This channel cannot close a trade (an offline voucher). */
  | { result: 'NOT_SUPPORTED' }
  /** The provider knows no such trade (see `meaningOfNotFound` for what that means). */
  | { result: 'NOT_FOUND' }
  /**
   * Not closed: the shopper is paying at this moment (WeChat Pay `202 USER_PAYING`, a password
   * being entered), and the payment may still complete. The attempt stays in flight and polled.
   */
  | { result: 'IN_PAYMENT' };

export interface RefundRequest {
  refundNo: string;
  attempt: AttemptRef;
  /** What is refunded. */
  money: Money;
  /** What the attempt was paid (WeChat Pay asks for the order's total beside the refund). */
  paid: Money;
  /** Where the provider reports the refund's outcome, for providers that notify refunds. */
  notifyUrl: string;
}

/**
 * What a provider says of one refund. `MANUAL_REQUIRED`: the provider holds the money and a person
 * must act before it moves (WeChat Pay `ABNORMAL`: the shopper's card or account cannot take it);
 * it is never a failure after which a second refund of the same money may be sent.
 */
export type ProviderRefundStatus = 'PROCESSING' | 'SUCCESS' | 'FAILED' | 'MANUAL_REQUIRED';

/**
 * One provider channel. Adapters map provider statuses to ours with an exhaustive switch; every
 * call carries an idempotency key derived from our ids (channelOrderNo, refundNo). Calls throw
 * `ChannelUnavailableError` (transient) when the provider fails or its breaker is open, and
 * `ChannelRejectedError` when the provider refused the request itself.
 */
export interface PaymentChannel {
  readonly name: string;
  /** What the cashier page calls it (the shopper's words: "WeChat Pay", "Card"). */
  readonly label: string;
  /** The provider serving it (its breaker's `circuit`). */
  readonly provider: string;
  /** The path segment under `/v1/notify/` its provider's notifications come to. */
  readonly notifyRoute: string;
  readonly closable: boolean;
  /**
   * Whether the provider can refund this channel's payments. When it cannot (Stripe refunds no
   * Boleto payment), an extra payment is owed back by hand: its refund is `MANUAL_REQUIRED`.
   */
  readonly refundable: boolean;
  /**
   * How the provider finds a trade. `OUR_NUMBER`: by our out-trade-no (Alipay, WeChat Pay, the
   * sandbox). `CREATE_ANSWER`: only by the id its create answered (a Stripe Checkout Session), so
   * an attempt whose create answer was lost is resolved by sending the same keyed create again,
   * which the provider replays (Stripe, for 24 hours) with the id.
   */
  readonly findsTradeBy: 'OUR_NUMBER' | 'CREATE_ANSWER';
  /**
   * What a person does with a refund of this channel that its provider holds for the merchant
   * (`MANUAL_REQUIRED` from the provider), in the provider's own terms; shown by the alert and payctl.
   */
  readonly manualRefundAdvice?: string;
  /** Whether an apply must give a `returnUrl` (hosted checkouts send the shopper back to it). */
  readonly needsReturnUrl?: boolean;
  /** Whether this channel takes payments in `currency` (checked at apply, before any provider call). */
  supportsCurrency(currency: string): boolean;
  createTrade(request: CreateTradeRequest): Promise<CreatedTrade>;
  queryTrade(attempt: AttemptRef): Promise<ProviderOutcome | 'NOT_FOUND'>;
  closeTrade(attempt: AttemptRef): Promise<CloseResult>;
  refund(request: RefundRequest): Promise<ProviderRefundStatus>;
  queryRefund(refundNo: string, attempt: AttemptRef): Promise<ProviderRefundStatus | 'NOT_FOUND'>;
}
