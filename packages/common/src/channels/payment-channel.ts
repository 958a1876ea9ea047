import type { ProviderOutcome } from '../domain/settle';

export interface CreateTradeRequest {
  channelOrderNo: string;
  merchantOrderNo: string;
  amount: number;
  currency: string;
  subject: string;
  /** The order's remaining validity becomes the trade's expiry. */
  expireAt: Date;
  notifyUrl: string;
}

export interface CreatedTrade {
  payUrl: string;
  providerTradeNo: string;
}

export type CloseResult =
  | { result: 'CLOSED' }
  /** The shopper paid before the close reached the provider. */
  | { result: 'ALREADY_PAID'; outcome: ProviderOutcome }
  /** This channel cannot close a trade (an offline voucher). */
  | { result: 'NOT_SUPPORTED' }
  /** The provider never created it. */
  | { result: 'NOT_FOUND' };

export interface RefundRequest {
  refundNo: string;
  channelOrderNo: string;
  amount: number;
}

export type ProviderRefundStatus = 'PROCESSING' | 'SUCCESS' | 'FAILED';

/** A verified provider notification. */
export interface ProviderNotification {
  channelOrderNo: string;
  outcome: ProviderOutcome;
}

/**
 * One provider channel. Adapters map provider statuses to ours with an exhaustive switch; every
 * call carries an idempotency key derived from our ids (channelOrderNo, refundNo). Calls throw
 * `ChannelUnavailableError` (transient) when the provider fails or the breaker is open.
 */
export interface PaymentChannel {
  readonly name: string;
  readonly closable: boolean;
  createTrade(request: CreateTradeRequest): Promise<CreatedTrade>;
  queryTrade(channelOrderNo: string): Promise<ProviderOutcome | 'NOT_FOUND'>;
  closeTrade(channelOrderNo: string): Promise<CloseResult>;
  refund(request: RefundRequest): Promise<ProviderRefundStatus>;
  queryRefund(refundNo: string): Promise<ProviderRefundStatus | 'NOT_FOUND'>;
  /** Verifies and reads a callback; throws `NotifyRejectedError` for a bad signature or body. */
  parseNotification(
    rawBody: string,
    headers: Record<string, string | string[] | undefined>,
  ): ProviderNotification;
}
