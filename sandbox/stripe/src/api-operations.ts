/**
 * The API's operations: Checkout Sessions (create, find, expire) and refunds (create, list). Each
 * returns its answer or throws an ApiFailure, and calls `begin` once its parameters are valid and
 * it starts to run (from then on its answer, a failure too, is kept under the request's
 * Idempotency-Key; a request refused before is not, as Stripe does).
 */
import { BOLETO_DEFAULT_EXPIRES_AFTER_DAYS } from './boleto-expiry';
import type { FormValue } from './form';
import { integer, invalid, list, missing, record, text, type Answer } from './api-params';
import type { StripeSandbox } from './sandbox';
import { stripeId, type Method, type Refund, type Session } from './state';
import { refundView } from './views';

const MIN_SESSION_S = 30 * 60;
const MAX_SESSION_S = 24 * 3600;
const BOLETO_MAX_EXPIRES_AFTER_DAYS = 60;

export function apiOperations(sandbox: StripeSandbox) {
  const { state, log, nowS, sessionView, refresh, emit, emitSession, settleRefundLater } = sandbox;

  function createSession(params: Record<string, FormValue>, begin: () => void): Answer {
    if (text(params.mode, 'mode') !== 'payment')
      throw invalid('This sandbox takes mode=payment only.', 'parameter_invalid_string', 'mode');
    if (params.payment_method_types !== undefined)
      throw invalid(
        'Received unknown parameter: payment_method_types. Use allowed_payment_method_types.',
        'parameter_unknown',
        'payment_method_types',
      );
    const methods = list(params.allowed_payment_method_types).map((method) =>
      text(method, 'allowed_payment_method_types'),
    );
    if (methods.length !== 1 || (methods[0] !== 'card' && methods[0] !== 'boleto'))
      throw invalid(
        'This sandbox takes one of card or boleto.',
        'parameter_invalid_string',
        'allowed_payment_method_types',
      );
    const method = methods[0] as Method;
    const items = list(params.line_items);
    if (items.length !== 1)
      throw invalid('Exactly one line item, please.', 'parameter_invalid_integer', 'line_items');
    const item = items[0] as Record<string, FormValue>;
    const price = (item.price_data ?? {}) as Record<string, FormValue>;
    const quantity = integer(item.quantity, 'line_items[0][quantity]');
    const unitAmount = integer(price.unit_amount, 'line_items[0][price_data][unit_amount]');
    const currency = text(price.currency, 'line_items[0][price_data][currency]')!;
    if (!/^[a-z]{3}$/.test(currency))
      throw invalid(
        `Invalid currency: ${currency}.`,
        'parameter_invalid_string',
        'line_items[0][price_data][currency]',
      );
    const product = (price.product_data ?? {}) as Record<string, FormValue>;
    const name = text(product.name, 'line_items[0][price_data][product_data][name]')!;
    if (method === 'boleto' && currency !== 'brl')
      throw invalid(
        'The payment method `boleto` does not support this currency: only brl.',
        'payment_method_unactivated',
        'allowed_payment_method_types',
      );
    const amount = unitAmount * quantity;
    if (amount < 1 || amount > 99_999_999)
      throw invalid(
        'The amount is out of range.',
        amount < 1 ? 'amount_too_small' : 'amount_too_large',
        'line_items',
      );
    const created = nowS();
    const expiresAt =
      params.expires_at === undefined ? created + MAX_SESSION_S : integer(params.expires_at, 'expires_at');
    if (expiresAt < created + MIN_SESSION_S || expiresAt > created + MAX_SESSION_S)
      throw invalid(
        'The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.',
        'parameter_invalid_integer',
        'expires_at',
      );
    const intentData = (params.payment_intent_data ?? {}) as Record<string, FormValue>;
    const boletoOptions = ((params.payment_method_options ?? {}) as Record<string, FormValue>).boleto as
      Record<string, FormValue> | undefined;
    const daysParam = 'payment_method_options[boleto][expires_after_days]';
    const boletoExpiresAfterDays =
      boletoOptions?.expires_after_days === undefined
        ? BOLETO_DEFAULT_EXPIRES_AFTER_DAYS
        : integer(boletoOptions.expires_after_days, daysParam);
    if (boletoExpiresAfterDays > BOLETO_MAX_EXPIRES_AFTER_DAYS)
      throw invalid(
        `expires_after_days must be at most ${BOLETO_MAX_EXPIRES_AFTER_DAYS}.`,
        'parameter_invalid_integer',
        daysParam,
      );
    const metadata = record(params.metadata, 'metadata');
    const intentMetadata = record(intentData.metadata, 'payment_intent_data[metadata]');
    const clientReferenceId = text(params.client_reference_id, 'client_reference_id', false) ?? null;
    const successUrl = text(params.success_url, 'success_url')!;
    const cancelUrl = text(params.cancel_url, 'cancel_url', false) ?? successUrl;
    begin();
    const session: Session = {
      id: stripeId('cs'),
      method,
      amount,
      currency,
      name,
      clientReferenceId,
      metadata,
      intentMetadata,
      successUrl,
      cancelUrl,
      expiresAt,
      boletoExpiresAfterDays,
      created,
      status: 'open',
      paid: false,
      expiredByMerchant: false,
      intentId: null,
    };
    state.sessions.set(session.id, session);
    log.info({ session: session.id, reference: session.clientReferenceId, method }, 'session created');
    return { status: 200, body: sessionView(session, false) };
  }

  function findSession(id: string): Session {
    const session = state.sessions.get(id);
    if (!session) throw missing('checkout.session', id, 'session');
    return refresh(session);
  }

  function expireSession(id: string): Answer {
    const session = findSession(id);
    if (session.status !== 'open')
      throw invalid(
        `Only Checkout Sessions with a status in ["open"] can be expired. This one is ${session.status}.`,
        'checkout_session_not_open',
      );
    session.status = 'expired';
    session.expiredByMerchant = true;
    emitSession('checkout.session.expired', session);
    return { status: 200, body: sessionView(session, false) };
  }

  function createRefund(params: Record<string, FormValue>, begin: () => void): Answer {
    const intentId = text(params.payment_intent, 'payment_intent')!;
    const asked = params.amount === undefined ? undefined : integer(params.amount, 'amount');
    const metadata = record(params.metadata, 'metadata');
    begin();
    const intent = state.intents.get(intentId);
    if (!intent) throw missing('payment_intent', intentId, 'payment_intent');
    if (intent.method === 'boleto')
      throw invalid(
        'Boleto payments cannot be refunded through Stripe; pay the customer back outside Stripe.',
        'charge_not_refundable',
        'payment_intent',
      );
    if (intent.status !== 'succeeded')
      throw invalid(
        `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
        'charge_not_refundable',
        'payment_intent',
      );
    const left = intent.amount - state.refundedTotal(intent.id);
    if (left <= 0)
      throw invalid(`Charge ${intent.chargeId} has already been refunded.`, 'charge_already_refunded');
    const amount = asked ?? left;
    if (amount < 1 || amount > left)
      throw invalid(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        'amount_too_large',
        'amount',
      );
    const refund: Refund = {
      id: stripeId('re'),
      intentId: intent.id,
      chargeId: intent.chargeId,
      amount,
      currency: intent.currency,
      metadata,
      status: 'pending',
      created: nowS(),
    };
    state.refunds.set(refund.id, refund);
    emit('refund.created', refundView(refund));
    settleRefundLater(refund);
    return { status: 200, body: refundView(refund) };
  }

  function listRefunds(query: Record<string, FormValue>): Answer {
    const intentId = text(query.payment_intent, 'payment_intent', false);
    const chargeId = text(query.charge, 'charge', false);
    const data = [...state.refunds.values()]
      .filter(
        (refund) =>
          (!intentId || refund.intentId === intentId) && (!chargeId || refund.chargeId === chargeId),
      )
      .reverse()
      .map(refundView);
    return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/refunds' } };
  }

  return { createSession, findSession, expireSession, createRefund, listRefunds };
}
