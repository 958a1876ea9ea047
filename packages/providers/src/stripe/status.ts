/**
 * What Stripe's objects mean (CONTRACT 9), in one place: a Checkout Session (with its payment
 * intent) as our outcome, refund statuses, error codes, and money on the wire. Pure: no I/O.
 */
import {
  type ProviderOutcome,
  currencyExponent,
  type Money,
  type ProviderRefundStatus,
} from '@payments/core';

/**
 * Card currencies we send to Stripe, each one whose Stripe unit is its ISO 4217 minor unit (two
 * decimals, or none: JPY, KRW). Left out: the three-decimal ones (Stripe wants a trailing zero),
 * and those Stripe counts differently from ISO (ISK, MGA, HUF, TWD).
 */
export const STRIPE_CARD_CURRENCIES: readonly string[] =
  'USD EUR GBP BRL JPY KRW CAD AUD NZD CHF SEK NOK DKK PLN CZK MXN SGD HKD INR ZAR CNY'.split(' ');
/** Boleto is Brazilian: reais only. */
export const STRIPE_BOLETO_CURRENCIES: readonly string[] = ['BRL'];

/** Our minor units as Stripe's smallest unit with its lower-case code (the same integer for these currencies). */
export function toStripeAmount(money: Money): { amount: number; currency: string } {
  if (!STRIPE_CARD_CURRENCIES.includes(money.currency))
    throw new RangeError(`Stripe is not used for ${money.currency} here`);
  currencyExponent(money.currency); // an ISO code we take
  if (!Number.isSafeInteger(money.amount) || money.amount < 1)
    throw new RangeError(`not an amount of minor units: ${money.amount}`);
  return { amount: money.amount, currency: money.currency.toLowerCase() };
}

/** Stripe's amount and lower-case code back as our money. */
export function fromStripeAmount(amount: number, currency: string): Money {
  const code = currency.toUpperCase();
  if (!STRIPE_CARD_CURRENCIES.includes(code) || !Number.isSafeInteger(amount))
    throw new RangeError(`unreadable Stripe amount ${amount} ${currency}`);
  return { amount, currency: code };
}

export type StripeSessionStatus = 'open' | 'complete' | 'expired';
export type StripePaymentStatus = 'paid' | 'unpaid' | 'no_payment_required';
export type StripeIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

/** A Checkout Session as read back from Stripe, with its payment intent expanded when it has one. */
export interface StripeSessionFacts {
  id: string;
  status: StripeSessionStatus;
  payment_status: StripePaymentStatus;
  amount_total: number;
  currency: string;
  payment_intent: {
    id: string;
    status: StripeIntentStatus;
    created?: number;
    /** An issued Boleto voucher's own expiry (`next_action.boleto_display_details.expires_at`, epoch seconds). */
    voucher_expires_at?: number | null;
  } | null;
}

/**
 * `open` in flight; `complete` + `paid` paid; `complete` + `unpaid` a voucher issued, still in
 * flight (payable until the voucher's own expiry, which may be days after the order's), unless its
 * payment intent says it ended (a Boleto voucher expired unpaid: failed) or succeeded meanwhile;
 * `expired` ended unpaid.
 */
export function stripeSessionOutcome(session: StripeSessionFacts, now: Date = new Date()): ProviderOutcome {
  const intent = session.payment_intent;
  const providerTradeNo = session.id;
  const paid = (): ProviderOutcome => ({
    status: 'SUCCESS',
    ...fromStripeAmount(session.amount_total, session.currency),
    paidAt: now,
    providerTradeNo,
  });
  const status = session.status;
  switch (status) {
    case 'open':
      return { status: 'PAYING', providerTradeNo };
    case 'expired':
      return { status: 'CLOSED', providerTradeNo };
    case 'complete': {
      if (session.payment_status === 'paid') return paid();
      if (session.payment_status === 'no_payment_required')
        throw new RangeError(`session ${session.id} asked for no payment`);
      const intentStatus = intent?.status ?? 'requires_action';
      switch (intentStatus) {
        case 'succeeded':
          return paid();
        case 'requires_action': {
          // The voucher is issued, waiting to be paid at a bank until its own expiry.
          const until = intent?.voucher_expires_at;
          return until
            ? { status: 'PAYING', providerTradeNo, payableUntil: new Date(until * 1000) }
            : { status: 'PAYING', providerTradeNo };
        }
        case 'processing':
        case 'requires_confirmation':
        case 'requires_capture':
          return { status: 'PAYING', providerTradeNo };
        case 'requires_payment_method': // the voucher expired unpaid
        case 'canceled':
          return { status: 'FAILED', reason: `voucher ended unpaid (${intentStatus})`, providerTradeNo };
        default: {
          const unknown: never = intentStatus;
          throw new Error(`unknown Stripe payment intent status ${String(unknown)}`);
        }
      }
    }
    default: {
      const unknown: never = status;
      throw new Error(`unknown Stripe session status ${String(unknown)}`);
    }
  }
}

export type StripeRefundState = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

export function stripeRefundOutcome(status: StripeRefundState): ProviderRefundStatus {
  switch (status) {
    case 'pending':
    case 'requires_action': // the customer must give bank details (some methods): still under way
      return 'PROCESSING';
    case 'succeeded':
      return 'SUCCESS';
    case 'failed':
    case 'canceled':
      return 'FAILED';
    default: {
      const unknown: never = status;
      throw new Error(`unknown Stripe refund status ${String(unknown)}`);
    }
  }
}

/** What a caller does about a Stripe error answer. */
export type StripeErrorMeaning =
  /** `resource_missing`: no such session, intent or refund. */
  | 'NOT_FOUND'
  /** The session is no longer open (an expire of a completed or expired one): its state decides. */
  | 'WRONG_STATE'
  /** Stripe's side failed, or is rate limiting: retried. */
  | 'TRY_LATER'
  /**
   * Stripe did not run this keyed request, but an earlier one with our key may have run (or is
   * running): `409 idempotency_key_in_use` (the first is still being processed) or `400
   * idempotency_error` (the key was used with other parameters). Neither says "no session" or "no
   * refund": the outcome is unknown, never a refusal.
   */
  | 'OUTCOME_UNKNOWN'
  /** The request itself is refused: retrying it unchanged cannot succeed. */
  | 'REFUSED';

export function meaningOfStripeError(error: {
  type?: string;
  code?: string;
  statusCode?: number;
}): StripeErrorMeaning {
  if (error.code === 'resource_missing') return 'NOT_FOUND';
  if (error.code === 'checkout_session_not_open' || error.code === 'payment_intent_unexpected_state')
    return 'WRONG_STATE';
  // The SDK makes every 409 a StripeAPIError, whatever its type: the code and status say what it is.
  if (
    error.type === 'StripeIdempotencyError' ||
    error.code === 'idempotency_key_in_use' ||
    error.statusCode === 409
  )
    return 'OUTCOME_UNKNOWN';
  if (error.code === 'lock_timeout' || error.code === 'rate_limit') return 'TRY_LATER';
  switch (error.type) {
    case 'StripeAPIError':
    case 'StripeConnectionError':
    case 'StripeRateLimitError':
      return 'TRY_LATER';
    default:
      // StripeInvalidRequestError (amount_too_small, charge_already_refunded, …),
      // StripeAuthenticationError, StripePermissionError.
      return (error.statusCode ?? 0) >= 500 ? 'TRY_LATER' : 'REFUSED';
  }
}
