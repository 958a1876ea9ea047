/**
 * The sandbox's Checkout Sessions, payment intents and refunds, in memory, in each currency's
 * smallest unit. A card session is paid on its page and completes paid; a Boleto session
 * completes unpaid once the voucher is issued, and its payment intent succeeds when the voucher
 * is paid, or fails (`requires_payment_method`) once the voucher's own expiry has passed unpaid
 * (calendar days, 23:59:59 São Paulo). An open session past `expires_at` is expired.
 */
import { randomBytes } from 'node:crypto';
import { boletoVoucherExpiresAt } from './boleto-expiry';

export type SessionStatus = 'open' | 'complete' | 'expired';
export type IntentStatus = 'requires_action' | 'requires_payment_method' | 'succeeded';
export type RefundStatus = 'pending' | 'succeeded' | 'failed';
export type Method = 'card' | 'boleto';

export const stripeId = (prefix: string) => `${prefix}_test_${randomBytes(12).toString('base64url')}`;

export interface Session {
  id: string;
  method: Method;
  amount: number;
  currency: string;
  name: string;
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  intentMetadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
  expiresAt: number;
  /** Boleto only: `payment_method_options.boleto.expires_after_days` (Stripe's default 3). */
  boletoExpiresAfterDays: number;
  created: number;
  status: SessionStatus;
  paid: boolean;
  /** Expired by the merchant's call (not by time). */
  expiredByMerchant: boolean;
  intentId: string | null;
}

export interface Intent {
  id: string;
  sessionId: string;
  method: Method;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  status: IntentStatus;
  created: number;
  chargeId: string;
  /** Boleto only: the voucher's number and its own expiry (epoch seconds). */
  voucher: { number: string; expiresAt: number } | null;
  paidAt: number | null;
}

export interface Refund {
  id: string;
  intentId: string;
  chargeId: string;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  status: RefundStatus;
  created: number;
}

/** A fee Stripe bills on its own, not taken from a charge (Radar, Billing, …): `type: stripe_fee`. */
export interface BilledFee {
  id: string;
  /** What it cost, in the currency's smallest unit (negative: a fee given back). */
  amount: number;
  currency: string;
  description: string;
  created: number;
}

export class StripeState {
  readonly sessions = new Map<string, Session>();
  readonly intents = new Map<string, Intent>();
  readonly refunds = new Map<string, Refund>();
  readonly fees: BilledFee[] = [];

  /** The session our out-trade-no names (its latest, if a number was used twice). */
  byReference(channelOrderNo: string): Session | undefined {
    let found: Session | undefined;
    for (const session of this.sessions.values())
      if (session.clientReferenceId === channelOrderNo) found = session;
    return found;
  }

  /** A session past its expiry is expired; true when that happened just now (its webhook is due). */
  expireIfDue(session: Session, nowS: number): boolean {
    if (session.status !== 'open' || nowS < session.expiresAt) return false;
    session.status = 'expired';
    return true;
  }

  /** The shopper pays by card on the Checkout page. */
  payByCard(session: Session, nowS: number): Intent {
    const intent = this.newIntent(session, nowS);
    intent.status = 'succeeded';
    intent.paidAt = nowS;
    session.status = 'complete';
    session.paid = true;
    return intent;
  }

  /** The shopper asks for a Boleto voucher: the session completes unpaid; the intent waits for payment. */
  issueVoucher(session: Session, nowS: number): Intent {
    const intent = this.newIntent(session, nowS);
    intent.status = 'requires_action';
    intent.voucher = {
      number: Array.from(randomBytes(24), (byte) => String(byte % 10)).join(''),
      expiresAt: boletoVoucherExpiresAt(nowS, session.boletoExpiresAfterDays),
    };
    session.status = 'complete';
    return intent;
  }

  /** The voucher is paid at a bank or lottery house: only while it is payable (until its expiry). */
  payVoucher(intent: Intent, nowS: number): boolean {
    if (intent.status !== 'requires_action' || this.voucherDue(intent, nowS)) return false;
    intent.status = 'succeeded';
    intent.paidAt = nowS;
    this.sessions.get(intent.sessionId)!.paid = true;
    return true;
  }

  /** The voucher's expiry has passed (it is payable through its last second, 23:59:59 São Paulo). */
  voucherDue(intent: Intent, nowS: number): boolean {
    return intent.voucher !== null && nowS > intent.voucher.expiresAt;
  }

  /** The voucher ends unpaid (its expiry passed, or a test says so now): the intent fails. */
  expireVoucher(intent: Intent): boolean {
    if (intent.status !== 'requires_action') return false;
    intent.status = 'requires_payment_method';
    return true;
  }

  refundedTotal(intentId: string): number {
    let total = 0;
    for (const refund of this.refunds.values())
      if (refund.intentId === intentId && refund.status !== 'failed') total += refund.amount;
    return total;
  }

  private newIntent(session: Session, nowS: number): Intent {
    const intent: Intent = {
      id: stripeId('pi'),
      sessionId: session.id,
      method: session.method,
      amount: session.amount,
      currency: session.currency,
      metadata: session.intentMetadata,
      status: 'requires_action',
      created: nowS,
      chargeId: stripeId('ch'),
      voucher: null,
      paidAt: null,
    };
    this.intents.set(intent.id, intent);
    session.intentId = intent.id;
    return intent;
  }

  clear(): void {
    this.sessions.clear();
    this.intents.clear();
    this.refunds.clear();
    this.fees.length = 0;
  }
}
