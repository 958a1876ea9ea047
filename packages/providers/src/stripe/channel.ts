/**
 * Stripe's channels, both Checkout Sessions (`mode: payment`, Stripe's hosted page, a redirect):
 * `stripe-card` (cards, in most currencies) and `stripe-boleto` (Brazilian Boleto vouchers, BRL,
 * paid offline days later, and never refundable through Stripe). The session is keyed by our
 * channelOrderNo (`Idempotency-Key`, `client_reference_id`, metadata); its id (`cs_…`) is the
 * reference every later call starts from, its payment intent (`pi_…`) is read from it.
 */
import type Stripe from 'stripe';
import {
  type ProviderOutcome,
  ChannelRejectedError,
  ChannelUnavailableError,
  type AttemptRef,
  type CloseResult,
  type CreatedTrade,
  type CreateTradeRequest,
  type PaymentChannel,
  type ProviderRefundStatus,
  type RefundRequest,
} from '@payments/core';
import type { StripeAnswer, StripeClient, StripeRefusal } from './client';
import {
  STRIPE_BOLETO_CURRENCIES,
  STRIPE_CARD_CURRENCIES,
  stripeRefundOutcome,
  stripeSessionOutcome,
  toStripeAmount,
  type StripeRefundState,
  type StripeSessionFacts,
} from './status';

import { STRIPE_CHANNELS } from './settings';

export { STRIPE_CHANNELS };
export type StripeChannelName = (typeof STRIPE_CHANNELS)[number];

/** Stripe keeps a Checkout Session open at least 30 minutes and at most 24 hours. */
const MIN_SESSION_S = 30 * 60;
const MAX_SESSION_S = 24 * 3600;
/** Margin for our clock being ahead of Stripe's when we ask for the shortest session. */
const CLOCK_MARGIN_S = 60;
/**
 * Stripe keeps a keyed request's answer at least 24 hours. Later, the same create is no replay: it
 * would be refused for its `expires_at` (by then in the past) although the first may have made a
 * session, or, were it accepted, make a second one. So a create is sent only this long after the
 * attempt was recorded; past it, its outcome stays unknown (the session's webhook still names it).
 */
const REPLAYABLE_FOR_MS = 23 * 3600_000;

/**
 * When the session may expire at Stripe: the order's expiry, raised to Stripe's minimum (the
 * attempt is then closed by us at the order's expiry) and held under its maximum, both counted from
 * when the attempt was recorded (`requestedAt`, never the clock at the call): a retry of the create
 * must send the very same parameters, or Stripe answers `idempotency_error` instead of replaying.
 */
export function sessionExpiresAt(orderExpireAt: Date, requestedAt: Date): number {
  const nowS = Math.ceil(requestedAt.getTime() / 1000);
  const wanted = Math.floor(orderExpireAt.getTime() / 1000);
  return Math.min(
    Math.max(wanted, nowS + MIN_SESSION_S + CLOCK_MARGIN_S),
    nowS + MAX_SESSION_S - CLOCK_MARGIN_S,
  );
}

function refused(what: string, refusal: StripeRefusal): ChannelRejectedError {
  return new ChannelRejectedError(`Stripe refused the ${what}: ${refusal.code} ${refusal.message}`);
}

function valueOf<T>(answer: StripeAnswer<T>, what: string): T {
  if (!answer.ok) throw refused(what, answer.refusal);
  return answer.value;
}

/** A session as the outcome mapping reads it (an unexpanded intent counts as none). */
export function sessionFacts(session: Stripe.Checkout.Session): StripeSessionFacts {
  const intent = session.payment_intent;
  if (session.status === null || session.amount_total === null || session.currency === null)
    throw new ChannelUnavailableError(`Stripe session ${session.id} answer lacks status or amount`);
  return {
    id: session.id,
    // Stripe's enums are open (new values may come): the mapping's default throws for one we do not know.
    status: session.status as StripeSessionFacts['status'],
    payment_status: session.payment_status as StripeSessionFacts['payment_status'],
    amount_total: session.amount_total,
    currency: session.currency,
    payment_intent:
      intent && typeof intent === 'object'
        ? {
            id: intent.id,
            status: intent.status as NonNullable<StripeSessionFacts['payment_intent']>['status'],
            voucher_expires_at: intent.next_action?.boleto_display_details?.expires_at ?? null,
          }
        : null,
  };
}

/** A session and its payment intent, read back from Stripe (the one source of truth for its state). */
export async function readSession(
  client: StripeClient,
  sessionId: string,
): Promise<Stripe.Checkout.Session | 'NOT_FOUND'> {
  const answer = await client.call('session read', (sdk) =>
    sdk.checkout.sessions.retrieve(sessionId, { expand: ['payment_intent'] }),
  );
  if (answer.ok) return answer.value;
  if (answer.refusal.meaning === 'NOT_FOUND') return 'NOT_FOUND';
  throw refused('session read', answer.refusal);
}

/** What a session read back means; one we cannot read is a provider failure, never guessed. */
export function outcomeOf(session: Stripe.Checkout.Session): ProviderOutcome {
  try {
    return stripeSessionOutcome(sessionFacts(session));
  } catch (error) {
    if (error instanceof ChannelUnavailableError) throw error;
    throw new ChannelUnavailableError(`Stripe session ${session.id} unreadable: ${(error as Error).message}`);
  }
}

export class StripeCheckoutChannel implements PaymentChannel {
  readonly provider = 'stripe';
  readonly notifyRoute = 'stripe';
  /** Until a Boleto voucher is issued; after that `closeTrade` answers NOT_SUPPORTED. */
  readonly closable = true;
  readonly refundable: boolean;
  readonly needsReturnUrl = true;
  /** A Checkout Session is read by its id (`cs_…`) only; a lost create answer is recovered by replaying the keyed create. */
  readonly findsTradeBy = 'CREATE_ANSWER';
  readonly label: string;

  constructor(
    readonly name: StripeChannelName,
    private readonly client: StripeClient,
  ) {
    // Stripe refunds no Boleto payment, in full or in part: an extra one is paid back by hand.
    this.refundable = name === 'stripe-card';
    this.label = name === 'stripe-card' ? 'Card' : 'Boleto';
  }

  supportsCurrency(currency: string): boolean {
    return (this.name === 'stripe-boleto' ? STRIPE_BOLETO_CURRENCIES : STRIPE_CARD_CURRENCIES).includes(
      currency,
    );
  }

  async createTrade(request: CreateTradeRequest): Promise<CreatedTrade> {
    if (!request.returnUrl) throw new ChannelRejectedError(`${this.name} needs a returnUrl`);
    if (Date.now() - request.requestedAt.getTime() > REPLAYABLE_FOR_MS)
      throw new ChannelUnavailableError(
        `Stripe replays a create for 24 hours only: ${request.channelOrderNo}'s is no longer sent`,
        { mayHaveReachedProvider: true },
      );
    let price;
    try {
      price = toStripeAmount(request.money);
    } catch (error) {
      throw new ChannelRejectedError((error as Error).message);
    }
    const ids = { channelOrderNo: request.channelOrderNo, merchantOrderNo: request.merchantOrderNo };
    const answer = await this.client.call('session create', (sdk) =>
      sdk.checkout.sessions.create(
        {
          mode: 'payment',
          allowed_payment_method_types: [this.name === 'stripe-card' ? 'card' : 'boleto'],
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: price.currency,
                unit_amount: price.amount,
                product_data: { name: request.subject.slice(0, 250) },
              },
            },
          ],
          client_reference_id: request.channelOrderNo,
          metadata: ids,
          payment_intent_data: { metadata: ids },
          success_url: request.returnUrl!,
          cancel_url: request.returnUrl!,
          expires_at: sessionExpiresAt(request.expireAt, request.requestedAt),
        },
        // The same create again (a lost answer, a second click, the poller recovering the session's
        // id) is replayed by Stripe for 24 hours: the same session, provided every parameter is the same.
        { idempotencyKey: request.channelOrderNo },
      ),
    );
    const session = valueOf(answer, 'session create');
    if (!session.url) throw new ChannelUnavailableError(`Stripe session ${session.id} has no url`);
    return { payAction: { type: 'redirect', url: session.url }, providerTradeNo: session.id };
  }

  async queryTrade(attempt: AttemptRef): Promise<ProviderOutcome | 'NOT_FOUND'> {
    // Without the session's id (its create answer was lost) Stripe cannot be asked by our number.
    if (!attempt.providerTradeNo) return 'NOT_FOUND';
    const session = await readSession(this.client, attempt.providerTradeNo);
    if (session === 'NOT_FOUND') return 'NOT_FOUND';
    if (session.client_reference_id !== attempt.channelOrderNo)
      throw new ChannelUnavailableError(`Stripe session ${session.id} is not ${attempt.channelOrderNo}'s`);
    return outcomeOf(session);
  }

  async closeTrade(attempt: AttemptRef): Promise<CloseResult> {
    if (!attempt.providerTradeNo) return { result: 'NOT_FOUND' };
    const sessionId = attempt.providerTradeNo;
    const answer = await this.client.call('session expire', (sdk) => sdk.checkout.sessions.expire(sessionId));
    if (answer.ok) return { result: 'CLOSED' };
    if (answer.refusal.meaning === 'NOT_FOUND') return { result: 'NOT_FOUND' };
    // No longer open (paid, a voucher issued, expired already): its state decides.
    const outcome = await this.queryTrade(attempt);
    if (outcome === 'NOT_FOUND') return { result: 'NOT_FOUND' };
    switch (outcome.status) {
      case 'SUCCESS':
        return { result: 'ALREADY_PAID', outcome };
      case 'CLOSED':
      case 'FAILED':
        return { result: 'CLOSED' };
      case 'PAYING': // complete but unpaid: a Boleto voucher is out, and only its own expiry ends it
        return { result: 'NOT_SUPPORTED' };
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
      }
    }
  }

  async refund(request: RefundRequest): Promise<ProviderRefundStatus> {
    if (!this.refundable) throw new ChannelRejectedError(`Stripe refunds no ${this.name} payment`);
    const intent = await this.paymentIntentOf(request.attempt);
    let price;
    try {
      price = toStripeAmount(request.money);
    } catch (error) {
      throw new ChannelRejectedError((error as Error).message);
    }
    const answer = await this.client.call('refund', (sdk) =>
      sdk.refunds.create(
        { payment_intent: intent, amount: price.amount, metadata: { refundNo: request.refundNo } },
        // Our refundNo is the idempotency key: the same request again refunds nothing more.
        { idempotencyKey: request.refundNo },
      ),
    );
    return stripeRefundOutcome(valueOf(answer, 'refund').status as StripeRefundState);
  }

  async queryRefund(refundNo: string, attempt: AttemptRef): Promise<ProviderRefundStatus | 'NOT_FOUND'> {
    const intent = await this.paymentIntentOf(attempt);
    const answer = await this.client.call('refund list', (sdk) =>
      sdk.refunds.list({ payment_intent: intent, limit: 100 }),
    );
    const refund = valueOf(answer, 'refund list').data.find(
      (candidate) => candidate.metadata?.refundNo === refundNo,
    );
    return refund ? stripeRefundOutcome(refund.status as StripeRefundState) : 'NOT_FOUND';
  }

  /** The payment intent a paid session charged. */
  private async paymentIntentOf(attempt: AttemptRef): Promise<string> {
    if (!attempt.providerTradeNo)
      throw new ChannelRejectedError(`no Stripe session known for ${attempt.channelOrderNo}`);
    const session = await readSession(this.client, attempt.providerTradeNo);
    const intent = session === 'NOT_FOUND' ? null : session.payment_intent;
    if (!intent) throw new ChannelRejectedError(`Stripe session ${attempt.providerTradeNo} charged nothing`);
    return typeof intent === 'string' ? intent : intent.id;
  }
}
