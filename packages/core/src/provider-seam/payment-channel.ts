import type { AttemptRef, CreateTradeRequest, Money } from '../domain/attempt';
import type { CloseResult, QueryAnswer } from '../domain/provider-answer';

// The attempt and the meaning of its answers are the domain's; the seam names them as before.
export type { AttemptRef, CreateTradeRequest, Money } from '../domain/attempt';
export type { CloseResult } from '../domain/provider-answer';

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

export interface CreatedTrade {
  payAction: PayAction;
  /** The provider's own reference, when its create answer names one. */
  providerTradeNo: string | null;
}

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
  queryTrade(attempt: AttemptRef): Promise<QueryAnswer>;
  closeTrade(attempt: AttemptRef): Promise<CloseResult>;
  refund(request: RefundRequest): Promise<ProviderRefundStatus>;
  queryRefund(refundNo: string, attempt: AttemptRef): Promise<ProviderRefundStatus | 'NOT_FOUND'>;
}
