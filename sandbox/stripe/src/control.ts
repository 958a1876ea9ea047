/**
 * Stripe's control API: the kit's (pay, faults, ledger, state), with `voucher` and `expire-voucher`
 * besides `pay`; Stripe's own fault (`PUT /sandbox/stripe-faults {"createAnswerLostRate": 0..1}`: a
 * session create runs and is kept under its key, but its answer never reaches the caller); and the
 * sandbox's clock (`POST /sandbox/clock {"advanceS": n}`, `DELETE /sandbox/clock`); and hidden trades
 * (the kit's `/sandbox/hidden/:number`: no webhook of the session; its retrieve and expire answer it
 * missing); and a fee billed on its own (`POST /sandbox/stripe/fees {"amount", "currency"}`: a
 * `stripe_fee` balance transaction). No auth: it stands for the shopper and the test harness.
 */
import type { FastifyInstance } from 'fastify';
import {
  controlError,
  projectLedger,
  registerControlApi,
  registerHiddenTrades,
  type LedgerTrade,
} from '@payments/sandbox-kit';
import { NO_STRIPE_FAULTS, type StripeFaults, type StripeSandbox } from './sandbox';
import { stripeId, type Session } from './state';

/** A control request's JSON body (kept as text by the raw-body parsers), or undefined if it is not JSON. */
function jsonBody(body: unknown): Record<string, unknown> | undefined {
  try {
    const value = typeof body === 'string' ? (body.trim() === '' ? {} : JSON.parse(body)) : (body ?? {});
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function registerControl(app: FastifyInstance, sandbox: StripeSandbox): void {
  const { state, faults, log, nowS, intentOf, refresh, issueVoucher, payCard, payVoucher, emitSession } =
    sandbox;
  app.get('/sandbox/stripe-faults', async () => sandbox.stripeFaults);
  app.put('/sandbox/stripe-faults', async (request, reply) => {
    const patch = jsonBody(request.body);
    const rate = patch?.createAnswerLostRate;
    const truncated = patch?.statementTruncated;
    const known = patch && Object.keys(patch).every((name) => name in NO_STRIPE_FAULTS);
    if (
      !known ||
      (rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))) ||
      (truncated !== undefined && typeof truncated !== 'boolean')
    )
      return reply
        .code(400)
        .send(
          controlError(
            'INVALID_REQUEST',
            'body: { "createAnswerLostRate"?: a number from 0 to 1, "statementTruncated"?: a boolean }',
          ),
        );
    sandbox.stripeFaults = { ...sandbox.stripeFaults, ...(patch as Partial<StripeFaults>) };
    log.info({ stripeFaults: sandbox.stripeFaults }, 'stripe faults set');
    return sandbox.stripeFaults;
  });
  app.delete('/sandbox/stripe-faults', async () => (sandbox.stripeFaults = { ...NO_STRIPE_FAULTS }));
  // Resetting the kit's faults resets Stripe's own too, so a test's cleanup needs one call.
  app.addHook('onRequest', async (request) => {
    if (request.method === 'DELETE' && request.url.split('?')[0] === '/sandbox/faults')
      sandbox.stripeFaults = { ...NO_STRIPE_FAULTS };
  });

  /** The sandbox's clock: what expiries (sessions, vouchers, kept idempotency keys) go by. */
  const clockView = () => ({
    now: new Date(nowS() * 1000).toISOString(),
    offsetS: sandbox.clockOffsetMs / 1000,
  });
  app.get('/sandbox/clock', async () => clockView());
  app.post('/sandbox/clock', async (request, reply) => {
    const advanceS = jsonBody(request.body)?.advanceS;
    if (typeof advanceS !== 'number' || !Number.isSafeInteger(advanceS) || advanceS < 0)
      return reply
        .code(400)
        .send(controlError('INVALID_REQUEST', 'body: { "advanceS": whole seconds, 0 or more }'));
    sandbox.clockOffsetMs += advanceS * 1000;
    // What is due by the new time happens now, with its events (a voucher's failure, a session's expiry).
    for (const session of state.sessions.values()) refresh(session);
    log.info({ clock: clockView() }, 'clock advanced');
    return clockView();
  });
  app.delete('/sandbox/clock', async () => {
    sandbox.clockOffsetMs = 0;
    return clockView();
  });

  // A fee Stripe bills on its own (Radar, Billing): a `stripe_fee` balance transaction of now.
  app.post('/sandbox/stripe/fees', async (request, reply) => {
    const body = jsonBody(request.body);
    const { amount, currency, description } = body ?? {};
    if (
      typeof amount !== 'number' ||
      !Number.isSafeInteger(amount) ||
      amount === 0 ||
      typeof currency !== 'string' ||
      !/^[a-z]{3}$/.test(currency) ||
      (description !== undefined && typeof description !== 'string')
    )
      return reply
        .code(400)
        .send(
          controlError(
            'INVALID_REQUEST',
            'body: { "amount": a whole number of the smallest unit, not 0, "currency": "brl", "description"?: text }',
          ),
        );
    const fee = {
      id: stripeId('txn'),
      amount,
      currency,
      description: (description as string | undefined) ?? 'Radar screening fees',
      created: nowS(),
    };
    state.fees.push(fee);
    log.info({ fee }, 'fee billed');
    return reply.code(201).send(fee);
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
      return { voucher: sandbox.intentView(issueVoucher(session)) };
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
      return { voucher: sandbox.intentView(intent) };
    },
  );

  const ledgerStatus = (session: Session): LedgerTrade['status'] => {
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
          return { status: 200, body: sandbox.sessionView(session, true) };
        }
        const intent = intentOf(session);
        if (intent && payVoucher(intent)) return { status: 200, body: sandbox.sessionView(session, true) };
        return {
          status: 409,
          body: controlError(
            'NOT_PAYABLE',
            `session is ${session.status}, ${session.paid ? 'paid' : 'unpaid'}`,
          ),
        };
      },
      ledger(filter) {
        return projectLedger(filter, {
          trades: [...state.sessions.values()].map(refresh),
          numbersOf: (session) =>
            session.clientReferenceId === null
              ? undefined
              : {
                  channelOrderNo: session.clientReferenceId,
                  merchantOrderNo: session.metadata.merchantOrderNo ?? null,
                },
          tradeEntry: (session) => {
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
          },
          refunds: state.refunds.values(),
          tradeKey: (session) => session.intentId,
          refundTradeKey: (refund) => refund.intentId,
          refundEntry: (refund) => ({
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
          }),
        });
      },
      clear() {
        sandbox.cancelAll();
        state.clear();
        sandbox.idempotency.clear();
        sandbox.clockOffsetMs = 0;
      },
    },
    faults,
    log,
  );
  registerHiddenTrades(app, faults.hidden, log);
}
