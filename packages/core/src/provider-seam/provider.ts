import type { StatementSource } from '../reconciliation/statement';
import type { ProviderOutcome } from '../domain/settle';
import type { PaymentChannel, ProviderRefundStatus } from './payment-channel';

/** A notification as it arrived: the exact bytes, with their content type, before anything is trusted. */
export interface NotificationRequest {
  rawBody: Buffer;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
}

/** What a verified notification says (Medusa's webhook-to-action mapping is the model). */
export type ProviderNotification =
  | { kind: 'payment'; channelOrderNo: string; providerTradeNo: string | null; outcome: ProviderOutcome }
  /** What the provider says of our refunds (one notification may report several: Stripe's `charge.refunded`). */
  | { kind: 'refund'; refunds: { refundNo: string; status: ProviderRefundStatus }[] }
  /** Verified, but nothing for us to act on (an event type we do not use). */
  | { kind: 'ignored'; reason: string };

/** How the notification ended on our side; the provider turns it into its own answer. */
export type NotificationVerdict =
  | { accepted: true }
  | { accepted: false; status: 400 | 401 | 404 | 500 | 503; code: string; message: string };

export interface NotificationAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** A notification that must not be believed: bad signature (401) or unreadable (400). */
export class NotifyRejectedError extends Error {
  override readonly name = 'NotifyRejectedError';
  constructor(
    readonly status: 400 | 401,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One payment provider (Hyperswitch's connector is the model): it owns its client, its breaker
 * (`circuit` = `name`), its notification routes and its channels; it verifies its notifications
 * and builds its answers. Generic code never names a provider's header, status or unit.
 */
export interface PaymentProvider {
  readonly name: string;
  /** Path segments under `/v1/notify/` whose notifications this provider verifies. */
  readonly notifyRoutes: readonly string[];
  readonly channels: readonly PaymentChannel[];
  /** Verifies on the raw bytes, then reads; throws `NotifyRejectedError` for what must not be believed. */
  verifyNotification(request: NotificationRequest): Promise<ProviderNotification>;
  /** For the callback log only, never trusted: the reference and signature an unverified body claims. */
  describeUnverified(request: NotificationRequest): {
    claimedReference: string | null;
    signature: string | null;
  };
  /** The provider's own answer; sent only after the result is durable. */
  acknowledge(verdict: NotificationVerdict): NotificationAnswer;
  /** Its statement of a day, for reconciliation (CONTRACT 11); absent while a provider has none. */
  readonly statements?: StatementSource;
}
