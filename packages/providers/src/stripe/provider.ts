/**
 * Stripe as one provider (CONTRACT 9): one client, one breaker (`stripe`), one webhook route
 * (`/v1/notify/stripe`, `Stripe-Signature` over the raw body), the channels `stripe-card` and
 * `stripe-boleto`. Events may come in any order and more than once: each one is taken as a hint
 * and the session (or refund) it names is read back from Stripe, so what settles is always
 * Stripe's state now, never the order events happened to arrive in.
 */
import type Stripe from 'stripe';
import {
  defineProvider,
  NotifyRejectedError,
  type NotificationAnswer,
  type NotificationRequest,
  type NotificationVerdict,
  type PaymentProvider,
  type ProviderNotification,
  type ProviderKit,
} from '@payments/core';
import {
  outcomeOf,
  readSession,
  STRIPE_CHANNELS,
  StripeCheckoutChannel,
  type StripeChannelName,
} from './channel';
import { StripeClient } from './client';
import { StripeStatements } from './statement';
import { stripeSection, type StripeSettings } from './settings';
import { stripeRefundOutcome, type StripeRefundState } from './status';

/** The Checkout events of CONTRACT 9: each settles from the session as Stripe has it now. */
const SESSION_EVENTS = new Set([
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
]);
const REFUND_EVENTS = new Set(['refund.created', 'refund.updated', 'refund.failed']);

/**
 * Whether a session is one of ours. Another integration on the same Stripe account (a second shop,
 * a Payment Link) sends its events to our endpoint too: each of our sessions carries our channel
 * order number (`co_…`) as its `client_reference_id` and in its metadata, and nothing else is ours.
 * An event about any other session is taken (200) and ignored, never refused: Stripe would retry a
 * refusal for three days.
 */
export function isOurSession(session: {
  client_reference_id?: string | null;
  metadata?: Record<string, string> | null;
}): boolean {
  const reference = session.client_reference_id;
  return (
    typeof reference === 'string' &&
    reference.startsWith('co_') &&
    session.metadata?.channelOrderNo === reference
  );
}

/** Whether a refund is one we made: it carries our refundNo (`rf_<channelOrderNo>_<reason>`). */
export function isOurRefund(refund: { metadata?: Record<string, string> | null }): boolean {
  const refundNo = refund.metadata?.refundNo;
  return typeof refundNo === 'string' && refundNo.startsWith('rf_');
}

export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe';
  readonly notifyRoutes = ['stripe'] as const;
  readonly channels: StripeCheckoutChannel[];
  readonly statements: StripeStatements;
  private readonly client: StripeClient;

  constructor(config: StripeSettings, kit: ProviderKit, channelNames: readonly string[]) {
    this.client = new StripeClient(config, kit);
    this.channels = channelNames.map(
      (name) => new StripeCheckoutChannel(name as StripeChannelName, this.client),
    );
    this.statements = new StripeStatements(this.client);
  }

  async verifyNotification(request: NotificationRequest): Promise<ProviderNotification> {
    const signature = request.headers['stripe-signature'];
    if (typeof signature !== 'string') throw new NotifyRejectedError(401, 'Stripe-Signature missing');
    let event: Stripe.Event;
    try {
      event = this.client.constructEvent(request.rawBody, signature);
    } catch (error) {
      throw new NotifyRejectedError(401, `Stripe-Signature: ${(error as Error).message.slice(0, 160)}`);
    }
    const object = event.data.object as { id?: string; object?: string };
    if (SESSION_EVENTS.has(event.type)) {
      // The signed body says whose session it is: another integration's is not read back at all.
      const hinted = object as Stripe.Checkout.Session;
      if (!isOurSession(hinted))
        return { kind: 'ignored', reason: `event ${event.id}: session ${hinted.id} is not ours` };
      return this.sessionNotification(hinted);
    }
    if (REFUND_EVENTS.has(event.type)) {
      const hinted = object as Stripe.Refund;
      if (!isOurRefund(hinted))
        return { kind: 'ignored', reason: `event ${event.id}: refund ${hinted.id} is not ours` };
      return this.refundNotification(hinted.id);
    }
    if (event.type === 'charge.refunded') return this.chargeRefunds((object as Stripe.Charge).id);
    return { kind: 'ignored', reason: `event ${event.id} of type ${event.type}` };
  }

  private async sessionNotification(hinted: Stripe.Checkout.Session): Promise<ProviderNotification> {
    const session = await readSession(this.client, hinted.id);
    if (session === 'NOT_FOUND') throw new NotifyRejectedError(400, `no session ${hinted.id} at Stripe`);
    const reference = session.client_reference_id;
    if (!reference || !isOurSession(session) || reference !== hinted.client_reference_id)
      return { kind: 'ignored', reason: `session ${session.id} is not ours` };
    return {
      kind: 'payment',
      channelOrderNo: reference,
      providerTradeNo: session.id,
      outcome: outcomeOf(session),
    };
  }

  private async refundNotification(refundId: string | undefined): Promise<ProviderNotification> {
    const answer = await this.client.call('refund read', (sdk) => sdk.refunds.retrieve(refundId ?? ''));
    if (!answer.ok) throw new NotifyRejectedError(400, `no refund ${refundId} at Stripe`);
    return { kind: 'refund', refunds: ours([answer.value]) };
  }

  /** A charge's event names no refund: its refunds are listed, and those we made are reported. */
  private async chargeRefunds(chargeId: string | undefined): Promise<ProviderNotification> {
    const answer = await this.client.call('refund list', (sdk) =>
      sdk.refunds.list({ charge: chargeId, limit: 100 }),
    );
    if (!answer.ok) throw new NotifyRejectedError(400, `no charge ${chargeId} at Stripe`);
    const refunds = ours(answer.value.data);
    if (refunds.length === 0) return { kind: 'ignored', reason: `charge ${chargeId} has no refund of ours` };
    return { kind: 'refund', refunds };
  }

  /** Webhook bodies are signed, but their ids are all we read unverified. */
  describeUnverified(request: NotificationRequest) {
    let reference: string | null = null;
    try {
      const object = JSON.parse(request.rawBody.toString('utf8'))?.data?.object;
      reference = typeof object?.client_reference_id === 'string' ? object.client_reference_id : null;
    } catch {
      reference = null;
    }
    const signature = request.headers['stripe-signature'];
    return { claimedReference: reference, signature: typeof signature === 'string' ? signature : null };
  }

  /** Stripe retries any answer but a 2xx. */
  acknowledge(verdict: NotificationVerdict): NotificationAnswer {
    return verdict.accepted
      ? { status: 200, contentType: 'application/json', body: '{"received":true}' }
      : {
          status: verdict.status,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: verdict.code, message: verdict.message } }),
        };
  }
}

/** Refunds we made (they carry our refundNo), with what Stripe says of each. */
function ours(refunds: Stripe.Refund[]) {
  return refunds.flatMap((refund) =>
    refund.metadata?.refundNo && isOurRefund(refund)
      ? [
          {
            refundNo: refund.metadata.refundNo,
            status: stripeRefundOutcome(refund.status as StripeRefundState),
          },
        ]
      : [],
  );
}

export const stripeProvider = defineProvider({
  name: 'stripe',
  channels: STRIPE_CHANNELS,
  section: stripeSection,
  signatureHeaders: ['stripe-signature'],
  create: (settings, kit, channels) => new StripeProvider(settings, kit, channels),
});
