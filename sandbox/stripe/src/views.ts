/** Checkout Sessions, payment intents and refunds as Stripe's API (and its events) show them. */
import type { Intent, Refund, Session } from './state';

export function intentView(intent: Intent, publicBase: string | undefined) {
  return {
    id: intent.id,
    object: 'payment_intent',
    amount: intent.amount,
    amount_received: intent.status === 'succeeded' ? intent.amount : 0,
    currency: intent.currency,
    status: intent.status,
    metadata: intent.metadata,
    created: intent.created,
    latest_charge: intent.status === 'succeeded' ? intent.chargeId : null,
    payment_method_types: [intent.method],
    livemode: false,
    next_action:
      intent.voucher && intent.status === 'requires_action'
        ? {
            type: 'boleto_display_details',
            boleto_display_details: {
              number: intent.voucher.number,
              expires_at: intent.voucher.expiresAt,
              hosted_voucher_url: `${publicBase}/voucher/${intent.id}`,
              pdf: `${publicBase}/voucher/${intent.id}.pdf`,
            },
          }
        : null,
  };
}
export function sessionView(
  session: Session,
  intent: Intent | undefined,
  expand: boolean,
  publicBase: string | undefined,
) {
  return {
    id: session.id,
    object: 'checkout.session',
    mode: 'payment',
    status: session.status,
    payment_status: session.paid ? 'paid' : 'unpaid',
    amount_subtotal: session.amount,
    amount_total: session.amount,
    currency: session.currency,
    client_reference_id: session.clientReferenceId,
    metadata: session.metadata,
    payment_intent: intent ? (expand ? intentView(intent, publicBase) : intent.id) : null,
    allowed_payment_method_types: [session.method],
    payment_method_options:
      session.method === 'boleto' ? { boleto: { expires_after_days: session.boletoExpiresAfterDays } } : {},
    url: session.status === 'open' ? `${publicBase}/c/pay/${session.id}` : null,
    success_url: session.successUrl,
    cancel_url: session.cancelUrl,
    expires_at: session.expiresAt,
    created: session.created,
    livemode: false,
  };
}
export function refundView(refund: Refund) {
  return {
    id: refund.id,
    object: 'refund',
    amount: refund.amount,
    currency: refund.currency,
    payment_intent: refund.intentId,
    charge: refund.chargeId,
    status: refund.status,
    metadata: refund.metadata,
    created: refund.created,
  };
}
