/**
 * A protocol-faithful Stripe on this machine (CONTRACT 9), for the official `stripe` SDK unchanged:
 * - the API (form-encoded bracket parameters, `Authorization: Bearer` with the secret key,
 *   `Idempotency-Key` replay, Stripe's error shape and codes): Checkout Sessions (create,
 *   retrieve with `expand[]=payment_intent`, expire), payment intents, refunds (create, retrieve,
 *   list; Boleto payments refused, as Stripe refuses them);
 * - the hosted Checkout stand-in a shopper pays on (`/c/pay/<session>`: a card, or a Boleto
 *   voucher issued, shown at `/voucher/<intent>` and paid there later or let expire);
 * - webhooks to the configured endpoint, `Stripe-Signature: t=…,v1=…` (HMAC-SHA256), retried on a
 *   Stripe-like schedule until answered 2xx;
 * - the sandbox control API of CONTRACT 6 (the kit's), with `voucher` and `expire-voucher` besides `pay`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createLogger, type Logger } from '@payments/common';
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

type Answer = { status: number; body: unknown };

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
  const nowS = () => Math.floor(now() / 1000);
  const scale = options.notifyTimeScale ?? 1;
  const state = new StripeState();
  const faults = new FaultBox();
  const timers = new Set<NodeJS.Timeout>();
  const idempotency = new Map<string, { fingerprint: string; answer: Answer }>();
  const sender = new NotifySender({
    log,
    retryDelaysMs: scaledSchedule(STRIPE_WEBHOOK_RETRIES_MS, scale),
    stopAfterSchedule: true,
  });

  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  keepRawBodies(app);

  let publicBase = options.publicUrl;
  const sessionUrl = (session: Session) => `${publicBase}/c/pay/${session.id}`;

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
      const timestamp = nowS();
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

  /** Lazily, as Stripe's own clock would: an open session past its expiry is expired (and says so). */
  function refresh(session: Session): Session {
    if (state.expireIfDue(session, nowS())) emitSession('checkout.session.expired', session);
    return session;
  }

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

  // The API's operations: each returns its answer or throws an ApiFailure.
  function createSession(params: Record<string, FormValue>): Answer {
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
    const session: Session = {
      id: stripeId('cs'),
      method,
      amount,
      currency,
      name,
      clientReferenceId: text(params.client_reference_id, 'client_reference_id', false) ?? null,
      metadata: record(params.metadata, 'metadata'),
      intentMetadata: record(intentData.metadata, 'payment_intent_data[metadata]'),
      successUrl: text(params.success_url, 'success_url')!,
      cancelUrl: text(params.cancel_url, 'cancel_url', false) ?? text(params.success_url, 'success_url')!,
      expiresAt,
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

  function createRefund(params: Record<string, FormValue>): Answer {
    const intentId = text(params.payment_intent, 'payment_intent')!;
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
    const amount = params.amount === undefined ? left : integer(params.amount, 'amount');
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
      metadata: record(params.metadata, 'metadata'),
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

  const fail = (reply: FastifyReply, failure: ApiFailure) =>
    reply.code(failure.status).send({
      error: {
        type: failure.type,
        message: failure.message,
        ...(failure.code ? { code: failure.code } : {}),
        ...(failure.param ? { param: failure.param } : {}),
      },
    });
  const fault = (what: string) => {
    log.info({ outcome: 'fault', what }, 'sandbox fault injected');
    return new ApiFailure(500, 'api_error', `sandbox fault: ${what}`);
  };

  /** One API route: authenticated, idempotent for POSTs with a key, answered in Stripe's shape. */
  function api(
    method: 'GET' | 'POST',
    path: string,
    run: (request: FastifyRequest, params: Record<string, FormValue>) => Promise<Answer> | Answer,
  ) {
    app.route({
      method,
      url: path,
      handler: async (request, reply) => {
        reply
          .header('request-id', `req_${randomBytes(7).toString('hex')}`)
          .header('stripe-version', API_VERSION);
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
        const key = method === 'POST' ? request.headers['idempotency-key'] : undefined;
        const fingerprint = `${method} ${request.url.split('?')[0]} ${body}`;
        if (typeof key === 'string') {
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
              .send(earlier.answer.body);
          }
        }
        try {
          const answer = await run(request, params);
          if (typeof key === 'string') idempotency.set(key, { fingerprint, answer });
          return reply.code(answer.status).send(answer.body);
        } catch (error) {
          if (!(error instanceof ApiFailure)) throw error;
          // Stripe keeps a 4xx under the key too (the same request again fails the same way); a 5xx may be retried.
          if (typeof key === 'string' && error.status < 500)
            idempotency.set(key, {
              fingerprint,
              answer: {
                status: error.status,
                body: {
                  error: { type: error.type, message: error.message, code: error.code, param: error.param },
                },
              },
            });
          return fail(reply, error);
        }
      },
    });
  }

  api('POST', '/v1/checkout/sessions', async (_request, params) => {
    if (faults.current.createLatencyMs > 0) await sleep(faults.current.createLatencyMs);
    if (draw(faults.current.createErrorRate)) throw fault('session create');
    return createSession(params);
  });
  api('GET', '/v1/checkout/sessions/:id', async (request, params) => {
    if (faults.current.queryLatencyMs > 0) await sleep(faults.current.queryLatencyMs);
    if (draw(faults.current.queryErrorRate)) throw fault('session retrieve');
    const expand = list(params.expand).includes('payment_intent');
    return { status: 200, body: sessionView(findSession((request.params as { id: string }).id), expand) };
  });
  api('POST', '/v1/checkout/sessions/:id/expire', async (request) => {
    if (faults.current.closeLatencyMs > 0) await sleep(faults.current.closeLatencyMs);
    if (draw(faults.current.closeErrorRate)) throw fault('session expire');
    return expireSession((request.params as { id: string }).id);
  });
  api('GET', '/v1/payment_intents/:id', (request) => {
    const id = (request.params as { id: string }).id;
    const intent = state.intents.get(id);
    if (!intent) throw missing('payment_intent', id, 'intent');
    return { status: 200, body: intentView(intent) };
  });
  api('POST', '/v1/refunds', (_request, params) => {
    if (draw(faults.current.refundErrorRate)) throw fault('refund');
    return createRefund(params);
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
  const intentOf = (session: Session) => (session.intentId ? state.intents.get(session.intentId) : undefined);
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
    return html(reply, 200, voucherPage(state.sessions.get(intent.sessionId)!, intent));
  });
  app.post<{ Params: { id: string } }>('/voucher/:id/pay', async (request, reply) => {
    const intent = state.intents.get(request.params.id);
    if (!intent?.voucher) return html(reply, 404, errorPage('resource_missing', 'no such voucher'));
    const paid = payVoucher(intent);
    return html(reply, paid ? 200 : 409, voucherPage(state.sessions.get(intent.sessionId)!, intent));
  });

  // The control API: the kit's, and the Boleto steps a test drives.
  const cancelAll = () => {
    sender.cancelAll();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };
  app.addHook('onClose', async () => cancelAll());
  app.get('/healthz', async () => ({ status: 'ok' }));

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
      },
    },
    faults,
    log,
  );

  return app;
}
