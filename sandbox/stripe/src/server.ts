/**
 * A protocol-faithful Stripe on this machine (CONTRACT 9), for the official `stripe` SDK unchanged:
 * - the API (form-encoded bracket parameters, `Authorization: Bearer` with the secret key,
 *   Stripe's error shape and codes, and its idempotency: a keyed POST that ran is replayed for
 *   24 hours, the same key with other parameters is `400 idempotency_error`, one still running
 *   `409 idempotency_key_in_use`, and a request refused before it ran is not kept): Checkout
 *   Sessions (create, retrieve with `expand[]=payment_intent`, expire), payment intents, refunds
 *   (create, retrieve, list; Boleto payments refused, as Stripe refuses them);
 * - the hosted Checkout stand-in a shopper pays on (`/c/pay/<session>`: a card, or a Boleto
 *   voucher issued, shown at `/voucher/<intent>`, payable there until its own expiry, 23:59:59
 *   São Paulo time `expires_after_days` calendar days after it was issued, and failed after it);
 * - webhooks to the configured endpoint, `Stripe-Signature: t=…,v1=…` (HMAC-SHA256), retried on a
 *   Stripe-like schedule until answered 2xx;
 * - the sandbox control API of CONTRACT 6 (the kit's), with `voucher` and `expire-voucher` besides
 *   `pay`; Stripe's own fault (`PUT /sandbox/stripe-faults {"createAnswerLostRate": 0..1}`: a session
 *   create runs and is kept under its key, but its answer never reaches the caller); and the
 *   sandbox's clock (`POST /sandbox/clock {"advanceS": n}`, `DELETE /sandbox/clock`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createLogger, type Logger } from '@payments/platform';
import {
  controlError,
  draw,
  FaultBox,
  firstSendDelayMs,
  inLedger,
  keepRawBodies,
  NotifySender,
  registerControlApi,
  scaledSchedule,
  type Ledger,
} from '@payments/sandbox-kit';
import { BOLETO_DEFAULT_EXPIRES_AFTER_DAYS } from './boleto-expiry';
import { parseForm, type FormValue } from './form';
import { errorPage, sessionPage, voucherPage } from './pages';
import { StripeState, stripeId, type Intent, type Method, type Refund, type Session } from './state';

export interface StripeSandboxOptions {
  /** The account's secret key: every API request must carry it. */
  secretKey: string;
  /** The webhook endpoint's signing secret. */
  webhookSecret: string;
  /** Where webhooks go (the endpoint configured for the account), asked at each event. */
  webhookUrl: () => string | undefined;
  log?: Logger;
  /** Compresses the webhook retry schedule and refund settling for tests: 0.001 → 60 ms, … */
  notifyTimeScale?: number;
  /** Where a shopper's browser reaches this sandbox (session URLs point there); default: the Host the API was called on. */
  publicUrl?: string;
  /** The real clock (ms); the sandbox's own clock is this plus what `POST /sandbox/clock` advanced it by. */
  now?: () => number;
}

/** Stripe retries an undelivered event for up to three days, backing off. */
const STRIPE_WEBHOOK_RETRIES_MS = [60, 300, 1800, 7200, 18_000, 36_000, 36_000, 36_000, 36_000, 36_000].map(
  (seconds) => seconds * 1000,
);
/** How long a card refund stays `pending` before it succeeds. */
const REFUND_SETTLE_MS = 2000;
const API_VERSION = '2026-10-28.endive';
const MIN_SESSION_S = 30 * 60;
const MAX_SESSION_S = 24 * 3600;
/** Stripe keeps a keyed request's answer at least 24 hours; a key reused after that is a new request. */
const IDEMPOTENCY_KEEP_S = 24 * 3600;
/** A lost create answer: the connection is held silent this long (or until the caller gives up), then cut. */
const LOST_ANSWER_HOLD_MS = 60_000;
const BOLETO_MAX_EXPIRES_AFTER_DAYS = 60;

/** Stripe's own faults, beside the kit's (`PUT /sandbox/stripe-faults`; `DELETE /sandbox/faults` resets them too). */
interface StripeFaults {
  /**
   * Chance that a session create that runs (a new session, kept under its Idempotency-Key) never
   * answers: the connection stays silent until the caller gives up (or 60 s, then it is cut). The
   * same create again is replayed with the session, as Stripe replays it.
   */
  createAnswerLostRate: number;
}
const NO_STRIPE_FAULTS: Readonly<StripeFaults> = { createAnswerLostRate: 0 };

/** A Stripe API error: `{ error: { type, code, message, param } }` with its HTTP status. */
class ApiFailure {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly message: string,
    readonly code?: string,
    readonly param?: string,
  ) {}
}
const invalid = (message: string, code?: string, param?: string) =>
  new ApiFailure(400, 'invalid_request_error', message, code, param);
const missing = (kind: string, id: string, param = 'id') =>
  new ApiFailure(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);

type Answer = {
  status: number;
  body: unknown;
  /** The answer is kept under its key, but never sent (the `createAnswerLostRate` fault). */
  lost?: boolean;
};

/** What Stripe keeps under an Idempotency-Key: the first request's endpoint and parameters, and its answer. */
interface SavedAnswer {
  fingerprint: string;
  answer: Answer;
  requestId: string;
  savedAtS: number;
}

/** Parameters in one canonical text (object keys sorted): the same parameters, the same text. */
function canonical(value: FormValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(value[key]!)}`)
    .join(',')}}`;
}

/** A control request's JSON body (kept as text by the raw-body parsers), or undefined if it is not JSON. */
function jsonBody(body: unknown): Record<string, unknown> | undefined {
  try {
    const value = typeof body === 'string' ? (body.trim() === '' ? {} : JSON.parse(body)) : (body ?? {});
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: FormValue | undefined, param: string, required = true): string | undefined => {
  if (value === undefined) {
    if (required) throw invalid(`Missing required param: ${param}.`, 'parameter_missing', param);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(`Invalid string: ${param}`, 'parameter_invalid_string', param);
  return value;
};
const integer = (value: FormValue | undefined, param: string): number => {
  const raw = text(value, param)!;
  if (!/^\d{1,12}$/.test(raw)) throw invalid(`Invalid integer: ${raw}`, 'parameter_invalid_integer', param);
  return Number(raw);
};
const record = (value: FormValue | undefined, param: string): Record<string, string> => {
  if (value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(`Invalid hash: ${param}`, undefined, param);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, text(item, `${param}[${key}]`)!]),
  );
};
const list = (value: FormValue | undefined): FormValue[] =>
  value === undefined
    ? []
    : Array.isArray(value)
      ? value
      : typeof value === 'object'
        ? Object.values(value)
        : [value];

export function buildStripeSandbox(options: StripeSandboxOptions): FastifyInstance {
  const log = options.log ?? createLogger('sandbox-stripe', 'silent');
  const now = options.now ?? Date.now;
  /** How far the sandbox's clock runs ahead of the real one (`POST /sandbox/clock`). */
  let clockOffsetMs = 0;
  /** The sandbox's (Stripe's) clock, in seconds: what expiries and records go by. */
  const nowS = () => Math.floor((now() + clockOffsetMs) / 1000);
  const scale = options.notifyTimeScale ?? 1;
  const state = new StripeState();
  const faults = new FaultBox();
  let stripeFaults: StripeFaults = { ...NO_STRIPE_FAULTS };
  const timers = new Set<NodeJS.Timeout>();
  /** Answers kept under their Idempotency-Key, oldest first. */
  const idempotency = new Map<string, SavedAnswer>();
  /** Keys whose first request is running now. */
  const running = new Set<string>();
  /** Connections whose answer was lost (the fault): held silent, cut at close. */
  const held = new Set<Socket>();
  const sender = new NotifySender({
    log,
    retryDelaysMs: scaledSchedule(STRIPE_WEBHOOK_RETRIES_MS, scale),
    stopAfterSchedule: true,
  });

  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  keepRawBodies(app);

  let publicBase = options.publicUrl;
  const sessionUrl = (session: Session) => `${publicBase}/c/pay/${session.id}`;
  const intentOf = (session: Session) => (session.intentId ? state.intents.get(session.intentId) : undefined);

  // Views, as the API answers them.
  function intentView(intent: Intent) {
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
  function sessionView(session: Session, expand: boolean) {
    const intent = session.intentId ? state.intents.get(session.intentId) : undefined;
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
      payment_intent: intent ? (expand ? intentView(intent) : intent.id) : null,
      allowed_payment_method_types: [session.method],
      payment_method_options:
        session.method === 'boleto' ? { boleto: { expires_after_days: session.boletoExpiresAfterDays } } : {},
      url: session.status === 'open' ? sessionUrl(session) : null,
      success_url: session.successUrl,
      cancel_url: session.cancelUrl,
      expires_at: session.expiresAt,
      created: session.created,
      livemode: false,
    };
  }
  function refundView(refund: Refund) {
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

  /** One event to the account's endpoint: signed anew for each send, as Stripe signs. */
  function emit(type: string, object: unknown): void {
    const url = options.webhookUrl();
    const id = `evt_${randomBytes(12).toString('base64url')}`;
    if (!url) return;
    if (draw(faults.current.dropNotifyRate)) {
      log.info({ eventId: id, type, outcome: 'dropped' }, 'webhook dropped by fault');
      return;
    }
    const payload = JSON.stringify({
      id,
      object: 'event',
      api_version: API_VERSION,
      created: nowS(),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    });
    const render = () => {
      // Signed at the moment of sending by the real clock (the receiver checks it against its own).
      const timestamp = Math.floor(now() / 1000);
      const signature = createHmac('sha256', options.webhookSecret)
        .update(`${timestamp}.${payload}`)
        .digest('hex');
      return {
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': `t=${timestamp},v1=${signature}`,
        },
        body: payload,
      };
    };
    const copies = faults.current.duplicateNotifies ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1)
      sender.send(url, id, render, firstSendDelayMs(faults.current));
  }
  const emitSession = (type: string, session: Session) => emit(type, sessionView(session, false));

  /**
   * Lazily, as Stripe's own clock would: an open session past its expiry is expired, and an issued
   * voucher past its own expiry fails unpaid (each says so by its event).
   */
  function refresh(session: Session): Session {
    if (state.expireIfDue(session, nowS())) emitSession('checkout.session.expired', session);
    const intent = intentOf(session);
    if (intent && state.voucherDue(intent, nowS()) && state.expireVoucher(intent)) {
      log.info({ session: session.id, intent: intent.id }, 'boleto voucher expired unpaid');
      emitSession('checkout.session.async_payment_failed', session);
    }
    return session;
  }
  const refreshIntent = (intent: Intent) => refresh(state.sessions.get(intent.sessionId)!);

  function payCard(session: Session) {
    state.payByCard(session, nowS());
    log.info({ session: session.id, amount: session.amount }, 'paid by card');
    emitSession('checkout.session.completed', session);
  }
  function issueVoucher(session: Session): Intent {
    const intent = state.issueVoucher(session, nowS());
    log.info({ session: session.id }, 'boleto voucher issued');
    emitSession('checkout.session.completed', session);
    return intent;
  }
  function payVoucher(intent: Intent): boolean {
    if (!state.payVoucher(intent, nowS())) return false;
    log.info({ intent: intent.id }, 'boleto voucher paid');
    emitSession('checkout.session.async_payment_succeeded', state.sessions.get(intent.sessionId)!);
    return true;
  }

  function settleRefundLater(refund: Refund) {
    const fail = draw(faults.current.refundFailRate);
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (refund.status !== 'pending' || !state.refunds.has(refund.id)) return;
        refund.status = fail ? 'failed' : 'succeeded';
        log.info({ refund: refund.id, status: refund.status }, 'refund settled');
        emit('refund.updated', refundView(refund));
        if (!fail) {
          const intent = state.intents.get(refund.intentId)!;
          const refunded = state.refundedTotal(intent.id);
          emit('charge.refunded', {
            id: refund.chargeId,
            object: 'charge',
            amount: intent.amount,
            amount_refunded: refunded,
            currency: intent.currency,
            payment_intent: intent.id,
            refunded: refunded >= intent.amount,
          });
        }
      },
      Math.max(1, Math.round(REFUND_SETTLE_MS * scale)),
    );
    timers.add(timer);
  }

  /**
   * The API's operations: each returns its answer or throws an ApiFailure, and calls `begin` once
   * its parameters are valid and it starts to run (from then on its answer, a failure too, is kept
   * under the request's Idempotency-Key; a request refused before is not, as Stripe does).
   */
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

  const failureBody = (failure: ApiFailure) => ({
    error: {
      type: failure.type,
      message: failure.message,
      ...(failure.code ? { code: failure.code } : {}),
      ...(failure.param ? { param: failure.param } : {}),
    },
  });
  const fail = (reply: FastifyReply, failure: ApiFailure) =>
    reply.code(failure.status).send(failureBody(failure));
  const fault = (what: string) => {
    log.info({ outcome: 'fault', what }, 'sandbox fault injected');
    return new ApiFailure(500, 'api_error', `sandbox fault: ${what}`);
  };

  /** Keys kept at least 24 hours are forgotten: the same key after that is a new request. */
  function forgetOldKeys(): void {
    const oldest = nowS() - IDEMPOTENCY_KEEP_S;
    for (const [key, saved] of idempotency) {
      if (saved.savedAtS > oldest) break;
      idempotency.delete(key);
    }
  }

  /** The answer is kept, never sent: the connection stays silent until the caller gives up, then is cut. */
  function loseAnswer(request: FastifyRequest, reply: FastifyReply): void {
    log.info({ url: request.url, outcome: 'answer lost' }, 'sandbox fault injected');
    reply.hijack();
    const socket = request.raw.socket;
    held.add(socket);
    const timer = setTimeout(() => socket.destroy(), LOST_ANSWER_HOLD_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      held.delete(socket);
    });
  }

  /**
   * One API route: authenticated, answered in Stripe's shape, and idempotent for POSTs with a key,
   * as Stripe's idempotency works: the answer of a request that ran (success or failure) is kept
   * under its key for 24 hours and replayed for the same endpoint and parameters
   * (`Idempotent-Replayed: true`); other parameters or another endpoint under the key are `400
   * idempotency_error`; while the first is still running, `409 idempotency_key_in_use`; a request
   * refused before it ran (invalid parameters, a sandbox fault standing for a failure in front of
   * the API) keeps nothing, and may be sent again.
   */
  function api(
    method: 'GET' | 'POST',
    path: string,
    run: (
      request: FastifyRequest,
      params: Record<string, FormValue>,
      begin: () => void,
    ) => Promise<Answer> | Answer,
  ) {
    app.route({
      method,
      url: path,
      handler: async (request, reply) => {
        const requestId = `req_${randomBytes(7).toString('hex')}`;
        reply.header('request-id', requestId).header('stripe-version', API_VERSION);
        publicBase ??= `http://${request.headers.host}`;
        const auth = request.headers.authorization ?? '';
        if (!auth.startsWith('Bearer '))
          return fail(reply, new ApiFailure(401, 'invalid_request_error', 'You did not provide an API key.'));
        if (auth.slice(7) !== options.secretKey)
          return fail(
            reply,
            new ApiFailure(
              401,
              'invalid_request_error',
              `Invalid API Key provided: ${auth.slice(7, 15)}****`,
            ),
          );
        const body = typeof request.body === 'string' ? request.body : '';
        const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
        let params: Record<string, FormValue>;
        try {
          params = parseForm(method === 'GET' ? rawQuery : body);
        } catch (error) {
          return fail(reply, invalid((error as Error).message));
        }
        const header = method === 'POST' ? request.headers['idempotency-key'] : undefined;
        const key = typeof header === 'string' && header !== '' ? header : undefined;
        let began = false;
        const begin = () => {
          began = true;
        };
        if (key === undefined) {
          try {
            const answer = await run(request, params, begin);
            return reply.code(answer.status).send(answer.body);
          } catch (error) {
            if (!(error instanceof ApiFailure)) throw error;
            return fail(reply, error);
          }
        }

        const fingerprint = `${method} ${request.url.split('?')[0]} ${canonical(params)}`;
        forgetOldKeys();
        const earlier = idempotency.get(key);
        if (earlier) {
          if (earlier.fingerprint !== fingerprint)
            return fail(
              reply,
              new ApiFailure(
                400,
                'idempotency_error',
                `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              ),
            );
          return reply
            .code(earlier.answer.status)
            .header('idempotent-replayed', 'true')
            .header('original-request', earlier.requestId)
            .send(earlier.answer.body);
        }
        if (running.has(key))
          return fail(
            reply,
            new ApiFailure(
              409,
              'idempotency_error',
              `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
              'idempotency_key_in_use',
            ),
          );
        running.add(key);
        let answer: Answer;
        try {
          answer = await run(request, params, begin);
          began = true; // an answer is a request that ran
        } catch (error) {
          if (!(error instanceof ApiFailure)) throw error;
          answer = { status: error.status, body: failureBody(error) };
        } finally {
          running.delete(key);
        }
        if (began) {
          idempotency.delete(key);
          idempotency.set(key, { fingerprint, answer, requestId, savedAtS: nowS() });
        }
        if (answer.lost) return loseAnswer(request, reply);
        return reply.code(answer.status).send(answer.body);
      },
    });
  }

  api('POST', '/v1/checkout/sessions', async (_request, params, begin) => {
    if (faults.current.createLatencyMs > 0) await sleep(faults.current.createLatencyMs);
    if (draw(faults.current.createErrorRate)) throw fault('session create');
    const answer = createSession(params, begin);
    return draw(stripeFaults.createAnswerLostRate) ? { ...answer, lost: true } : answer;
  });
  api('GET', '/v1/checkout/sessions/:id', async (request, params) => {
    if (faults.current.queryLatencyMs > 0) await sleep(faults.current.queryLatencyMs);
    if (draw(faults.current.queryErrorRate)) throw fault('session retrieve');
    const expand = list(params.expand).includes('payment_intent');
    return { status: 200, body: sessionView(findSession((request.params as { id: string }).id), expand) };
  });
  api('POST', '/v1/checkout/sessions/:id/expire', async (request, _params, begin) => {
    if (faults.current.closeLatencyMs > 0) await sleep(faults.current.closeLatencyMs);
    if (draw(faults.current.closeErrorRate)) throw fault('session expire');
    begin();
    return expireSession((request.params as { id: string }).id);
  });
  api('GET', '/v1/payment_intents/:id', (request) => {
    const id = (request.params as { id: string }).id;
    const intent = state.intents.get(id);
    if (!intent) throw missing('payment_intent', id, 'intent');
    refreshIntent(intent);
    return { status: 200, body: intentView(intent) };
  });
  api('POST', '/v1/refunds', (_request, params, begin) => {
    if (draw(faults.current.refundErrorRate)) throw fault('refund');
    return createRefund(params, begin);
  });
  api('GET', '/v1/refunds', (_request, params) => {
    if (draw(faults.current.queryErrorRate)) throw fault('refund list');
    return listRefunds(params);
  });
  api('GET', '/v1/refunds/:id', (request) => {
    const id = (request.params as { id: string }).id;
    const refund = state.refunds.get(id);
    if (!refund) throw missing('refund', id, 'refund');
    return { status: 200, body: refundView(refund) };
  });

  // The shopper's pages.
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).type('text/html; charset=utf-8').send(body);
  const backTo = (session: Session) => session.successUrl.replace('{CHECKOUT_SESSION_ID}', session.id);

  app.get<{ Params: { id: string } }>('/c/pay/:id', async (request, reply) => {
    const session = state.sessions.get(request.params.id);
    if (!session) return html(reply, 404, errorPage('resource_missing', 'no such checkout session'));
    refresh(session);
    return html(reply, 200, sessionPage(session, intentOf(session)));
  });
  app.post<{ Params: { id: string } }>('/c/pay/:id/card', async (request, reply) => {
    const session = state.sessions.get(request.params.id);
    if (!session || session.method !== 'card')
      return html(reply, 404, errorPage('resource_missing', 'no such card session'));
    if (refresh(session).status !== 'open') return html(reply, 409, sessionPage(session, intentOf(session)));
    payCard(session);
    return reply.redirect(backTo(session), 303);
  });
  app.post<{ Params: { id: string } }>('/c/pay/:id/boleto', async (request, reply) => {
    const session = state.sessions.get(request.params.id);
    if (!session || session.method !== 'boleto')
      return html(reply, 404, errorPage('resource_missing', 'no such boleto session'));
    if (refresh(session).status !== 'open') return html(reply, 409, sessionPage(session, intentOf(session)));
    const taxId =
      new URLSearchParams(typeof request.body === 'string' ? request.body : '').get('tax_id') ?? '';
    if (!/^(\d{11}|\d{14})$/.test(taxId.replace(/\D/g, '')))
      return html(reply, 400, errorPage('invalid_tax_id', 'a CPF has 11 digits, a CNPJ 14'));
    const intent = issueVoucher(session);
    return reply.redirect(`/voucher/${intent.id}`, 303);
  });
  app.get<{ Params: { id: string } }>('/voucher/:id', async (request, reply) => {
    const intent = state.intents.get(request.params.id);
    if (!intent?.voucher) return html(reply, 404, errorPage('resource_missing', 'no such voucher'));
    return html(reply, 200, voucherPage(refreshIntent(intent), intent));
  });
  app.post<{ Params: { id: string } }>('/voucher/:id/pay', async (request, reply) => {
    const intent = state.intents.get(request.params.id);
    if (!intent?.voucher) return html(reply, 404, errorPage('resource_missing', 'no such voucher'));
    const session = refreshIntent(intent); // past its expiry it has failed, and cannot be paid
    const paid = payVoucher(intent);
    return html(reply, paid ? 200 : 409, voucherPage(session, intent));
  });

  // The control API: the kit's, Stripe's own fault, the clock, and the Boleto steps a test drives.
  const cancelAll = () => {
    sender.cancelAll();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const socket of held) socket.destroy();
    held.clear();
  };
  app.addHook('onClose', async () => cancelAll());
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/sandbox/stripe-faults', async () => stripeFaults);
  app.put('/sandbox/stripe-faults', async (request, reply) => {
    const patch = jsonBody(request.body);
    const rate = patch?.createAnswerLostRate;
    const known = patch && Object.keys(patch).every((name) => name in NO_STRIPE_FAULTS);
    if (!known || (rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))))
      return reply
        .code(400)
        .send(controlError('INVALID_REQUEST', 'body: { "createAnswerLostRate"?: a number from 0 to 1 }'));
    stripeFaults = { ...stripeFaults, ...(patch as Partial<StripeFaults>) };
    log.info({ stripeFaults }, 'stripe faults set');
    return stripeFaults;
  });
  app.delete('/sandbox/stripe-faults', async () => (stripeFaults = { ...NO_STRIPE_FAULTS }));
  // Resetting the kit's faults resets Stripe's own too, so a test's cleanup needs one call.
  app.addHook('onRequest', async (request) => {
    if (request.method === 'DELETE' && request.url.split('?')[0] === '/sandbox/faults')
      stripeFaults = { ...NO_STRIPE_FAULTS };
  });

  /** The sandbox's clock: what expiries (sessions, vouchers, kept idempotency keys) go by. */
  const clockView = () => ({ now: new Date(nowS() * 1000).toISOString(), offsetS: clockOffsetMs / 1000 });
  app.get('/sandbox/clock', async () => clockView());
  app.post('/sandbox/clock', async (request, reply) => {
    const advanceS = jsonBody(request.body)?.advanceS;
    if (typeof advanceS !== 'number' || !Number.isSafeInteger(advanceS) || advanceS < 0)
      return reply
        .code(400)
        .send(controlError('INVALID_REQUEST', 'body: { "advanceS": whole seconds, 0 or more }'));
    clockOffsetMs += advanceS * 1000;
    // What is due by the new time happens now, with its events (a voucher's failure, a session's expiry).
    for (const session of state.sessions.values()) refresh(session);
    log.info({ clock: clockView() }, 'clock advanced');
    return clockView();
  });
  app.delete('/sandbox/clock', async () => {
    clockOffsetMs = 0;
    return clockView();
  });

  const controlled = (channelOrderNo: string) => {
    const session = state.byReference(channelOrderNo);
    return session ? refresh(session) : undefined;
  };
  const notFound = (channelOrderNo: string) => ({
    status: 404,
    body: controlError('TRADE_NOT_FOUND', `no session for ${channelOrderNo}`),
  });
  app.post<{ Params: { channelOrderNo: string } }>(
    '/sandbox/trades/:channelOrderNo/voucher',
    async (request, reply) => {
      const session = controlled(request.params.channelOrderNo);
      if (!session) return reply.code(404).send(notFound(request.params.channelOrderNo).body);
      if (session.method !== 'boleto' || session.status !== 'open')
        return reply
          .code(409)
          .send(controlError('NOT_OPEN_BOLETO', `session is ${session.status} ${session.method}`));
      return { voucher: intentView(issueVoucher(session)) };
    },
  );
  app.post<{ Params: { channelOrderNo: string } }>(
    '/sandbox/trades/:channelOrderNo/expire-voucher',
    async (request, reply) => {
      const session = controlled(request.params.channelOrderNo);
      const intent = session && intentOf(session);
      if (!session || !intent) return reply.code(404).send(notFound(request.params.channelOrderNo).body);
      if (!state.expireVoucher(intent))
        return reply.code(409).send(controlError('NOT_PAYABLE', `voucher is ${intent.status}`));
      emitSession('checkout.session.async_payment_failed', session);
      return { voucher: intentView(intent) };
    },
  );

  const ledgerStatus = (session: Session): Ledger['trades'][number]['status'] => {
    const intent = intentOf(session);
    if (session.paid) return 'PAID';
    if (session.status === 'expired') return session.expiredByMerchant ? 'CLOSED' : 'EXPIRED';
    if (intent && intent.status !== 'requires_action') return 'EXPIRED';
    return 'WAITING';
  };

  registerControlApi(
    app,
    {
      pay(channelOrderNo) {
        const session = controlled(channelOrderNo);
        if (!session) return notFound(channelOrderNo);
        if (session.status === 'open') {
          if (session.method === 'card') payCard(session);
          else payVoucher(issueVoucher(session));
          return { status: 200, body: sessionView(session, true) };
        }
        const intent = intentOf(session);
        if (intent && payVoucher(intent)) return { status: 200, body: sessionView(session, true) };
        return {
          status: 409,
          body: controlError(
            'NOT_PAYABLE',
            `session is ${session.status}, ${session.paid ? 'paid' : 'unpaid'}`,
          ),
        };
      },
      ledger(filter) {
        const sessions = [...state.sessions.values()].map(refresh).filter(
          (session) =>
            session.clientReferenceId !== null &&
            inLedger(filter, {
              channelOrderNo: session.clientReferenceId,
              merchantOrderNo: session.metadata.merchantOrderNo ?? null,
            }),
        );
        const intents = new Set(sessions.map((session) => session.intentId).filter(Boolean));
        return {
          trades: sessions.map((session) => {
            const intent = intentOf(session);
            return {
              channelOrderNo: session.clientReferenceId!,
              merchantOrderNo: session.metadata.merchantOrderNo ?? null,
              channel: session.method === 'card' ? 'stripe-card' : 'stripe-boleto',
              amount: session.amount,
              currency: session.currency.toUpperCase(),
              status: ledgerStatus(session),
              paidAt: intent?.paidAt ? new Date(intent.paidAt * 1000).toISOString() : null,
            };
          }),
          refunds: [...state.refunds.values()]
            .filter((refund) => intents.has(refund.intentId))
            .map((refund) => ({
              refundNo: refund.metadata.refundNo ?? refund.id,
              channelOrderNo: state.sessions.get(state.intents.get(refund.intentId)!.sessionId)!
                .clientReferenceId!,
              amount: refund.amount,
              status:
                refund.status === 'pending'
                  ? 'PROCESSING'
                  : refund.status === 'succeeded'
                    ? 'SUCCESS'
                    : 'FAILED',
            })),
        };
      },
      clear() {
        cancelAll();
        state.clear();
        idempotency.clear();
        clockOffsetMs = 0;
      },
    },
    faults,
    log,
  );

  return app;
}
