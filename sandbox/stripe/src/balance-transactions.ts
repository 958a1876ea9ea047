/**
 * The sandbox's balance transactions, built from its own ledger as Stripe books them: one when a
 * payment intent succeeds (`type: charge` for a card, `payment` for a Boleto, both
 * `reporting_category: charge`; Stripe's fee taken from it) and one when a refund is made (`type:
 * refund`, `reporting_category: refund`, a negative amount; Stripe keeps its fee), and one for each
 * fee billed on its own (`type: stripe_fee`, `reporting_category: fee`, no source). Listed newest
 * first, as Stripe lists them; `source` expandable to the charge or refund, and that one's
 * `payment_intent` too.
 */
import type { StripeState } from './state';

/** Stripe's standard fees, in the currency's smallest unit: cards 2.9% + 30, Boleto a flat 3.45 BRL. */
export const stripeFee = (method: 'card' | 'boleto', amount: number) =>
  method === 'boleto' ? 345 : Math.round(amount * 0.029) + 30;

export interface BalanceEntry {
  id: string;
  created: number;
  view: (expand: readonly string[], intentView: (id: string) => object) => object;
}

export function balanceEntries(state: StripeState): BalanceEntry[] {
  const entries: BalanceEntry[] = [];
  for (const intent of state.intents.values()) {
    if (intent.status !== 'succeeded' || intent.paidAt === null) continue;
    const fee = stripeFee(intent.method, intent.amount);
    const id = `txn_${intent.chargeId.slice(3)}`;
    entries.push({
      id,
      created: intent.paidAt,
      view: (expand, intentView) => ({
        id,
        object: 'balance_transaction',
        amount: intent.amount,
        currency: intent.currency,
        fee,
        fee_details: [
          {
            amount: fee,
            currency: intent.currency,
            type: 'stripe_fee',
            description: 'Stripe processing fees',
          },
        ],
        net: intent.amount - fee,
        created: intent.paidAt,
        available_on: intent.paidAt! + 2 * 86_400,
        status: 'pending',
        type: intent.method === 'boleto' ? 'payment' : 'charge',
        reporting_category: 'charge',
        source: expand.includes('data.source')
          ? {
              id: intent.chargeId,
              object: 'charge',
              amount: intent.amount,
              currency: intent.currency,
              paid: true,
              metadata: {},
              payment_intent: expand.includes('data.source.payment_intent')
                ? intentView(intent.id)
                : intent.id,
            }
          : intent.chargeId,
      }),
    });
  }
  for (const refund of state.refunds.values()) {
    if (refund.status === 'failed') continue;
    const id = `txn_${refund.id.slice(3)}`;
    entries.push({
      id,
      created: refund.created,
      view: (expand, intentView) => ({
        id,
        object: 'balance_transaction',
        amount: -refund.amount,
        currency: refund.currency,
        fee: 0,
        fee_details: [],
        net: -refund.amount,
        created: refund.created,
        available_on: refund.created,
        status: 'available',
        type: 'refund',
        reporting_category: 'refund',
        source: expand.includes('data.source')
          ? {
              id: refund.id,
              object: 'refund',
              amount: refund.amount,
              currency: refund.currency,
              charge: refund.chargeId,
              metadata: refund.metadata,
              status: refund.status,
              payment_intent: expand.includes('data.source.payment_intent')
                ? intentView(refund.intentId)
                : refund.intentId,
            }
          : refund.id,
      }),
    });
  }
  for (const fee of state.fees)
    entries.push({
      id: fee.id,
      created: fee.created,
      view: () => ({
        id: fee.id,
        object: 'balance_transaction',
        amount: -fee.amount,
        currency: fee.currency,
        fee: 0,
        fee_details: [],
        net: -fee.amount,
        created: fee.created,
        available_on: fee.created,
        status: 'available',
        type: 'stripe_fee',
        reporting_category: 'fee',
        description: fee.description,
        source: null,
      }),
    });
  return entries.sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
}
