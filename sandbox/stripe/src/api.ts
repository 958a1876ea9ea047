/**
 * Stripe's API (form-encoded bracket parameters, Stripe's error shape and codes, its idempotency):
 * Checkout Sessions (create, retrieve with `expand[]=payment_intent`, list by `payment_intent`,
 * expire), payment intents, refunds (create, retrieve, list; Boleto payments refused, as Stripe
 * refuses them), balance transactions (list by `created`, paginated, `source` expandable).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { draw } from '@payments/sandbox-kit';
import { apiOperations } from './api-operations';
import { ApiFailure, integer, invalid, list, missing, record, text } from './api-params';
import { apiRoutes } from './api-route';
import { balanceEntries } from './balance-transactions';
import type { StripeSandbox } from './sandbox';
import { refundView } from './views';

export function registerApi(app: FastifyInstance, sandbox: StripeSandbox): void {
  const { state, faults, log, refreshIntent } = sandbox;
  const api = apiRoutes(app, sandbox);
  const { createSession, findSession, expireSession, createRefund, listRefunds } = apiOperations(sandbox);
  /** A session, unless hidden (a loss made on purpose): then Stripe answers as if it never made it. */
  const visibleSession = (id: string) => {
    const session = findSession(id);
    if (!sandbox.isHidden(session)) return session;
    log.info({ session: id, outcome: 'hidden' }, 'hidden session answered missing');
    throw missing('checkout.session', id, 'session');
  };
  const fault = (what: string) => {
    log.info({ outcome: 'fault', what }, 'sandbox fault injected');
    return new ApiFailure(500, 'api_error', `sandbox fault: ${what}`);
  };

  api('POST', '/v1/checkout/sessions', async (_request, params, begin) => {
    if (faults.current.createLatencyMs > 0) await sleep(faults.current.createLatencyMs);
    if (draw(faults.current.createErrorRate)) throw fault('session create');
    const answer = createSession(params, begin);
    return draw(sandbox.stripeFaults.createAnswerLostRate) ? { ...answer, lost: true } : answer;
  });
  api('GET', '/v1/checkout/sessions', (_request, params) => {
    const intentId = text(params.payment_intent, 'payment_intent', false);
    const data = [...state.sessions.values()]
      .filter((session) => (!intentId || session.intentId === intentId) && !sandbox.isHidden(session))
      .reverse()
      .map((session) => sandbox.sessionView(session, false));
    return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/checkout/sessions' } };
  });
  api('GET', '/v1/balance_transactions', (_request, params) => {
    const created = params.created === undefined ? {} : record(params.created, 'created');
    const bound = (name: string) =>
      created[name] === undefined ? undefined : integer(created[name], `created[${name}]`);
    const [gte, gt, lte, lt] = ['gte', 'gt', 'lte', 'lt'].map(bound);
    const limit = params.limit === undefined ? 10 : integer(params.limit, 'limit');
    if (limit < 1 || limit > 100) throw invalid('limit must be between 1 and 100', undefined, 'limit');
    const after = text(params.starting_after, 'starting_after', false);
    if (after && sandbox.stripeFaults.statementTruncated) throw fault('balance transactions page');
    const entries = balanceEntries(state).filter(
      (entry) =>
        (gte === undefined || entry.created >= gte) &&
        (gt === undefined || entry.created > gt) &&
        (lte === undefined || entry.created <= lte) &&
        (lt === undefined || entry.created < lt),
    );
    const start = after ? entries.findIndex((entry) => entry.id === after) + 1 : 0;
    if (after && start === 0) throw missing('balance_transaction', after, 'starting_after');
    // Under the fault the listing breaks off: one transaction, "more" promised, the next page fails.
    const size = sandbox.stripeFaults.statementTruncated ? 1 : limit;
    const page = entries.slice(start, start + size);
    const expand = list(params.expand).map(String);
    const intentView = (id: string) => sandbox.intentView(state.intents.get(id)!);
    return {
      status: 200,
      body: {
        object: 'list',
        data: page.map((entry) => entry.view(expand, intentView)),
        has_more: sandbox.stripeFaults.statementTruncated || start + size < entries.length,
        url: '/v1/balance_transactions',
      },
    };
  });
  api('GET', '/v1/checkout/sessions/:id', async (request, params) => {
    if (faults.current.queryLatencyMs > 0) await sleep(faults.current.queryLatencyMs);
    if (draw(faults.current.queryErrorRate)) throw fault('session retrieve');
    const expand = list(params.expand).includes('payment_intent');
    return {
      status: 200,
      body: sandbox.sessionView(visibleSession((request.params as { id: string }).id), expand),
    };
  });
  api('POST', '/v1/checkout/sessions/:id/expire', async (request, _params, begin) => {
    if (faults.current.closeLatencyMs > 0) await sleep(faults.current.closeLatencyMs);
    if (draw(faults.current.closeErrorRate)) throw fault('session expire');
    const id = (request.params as { id: string }).id;
    visibleSession(id);
    begin();
    return expireSession(id);
  });
  api('GET', '/v1/payment_intents/:id', (request) => {
    const id = (request.params as { id: string }).id;
    const intent = state.intents.get(id);
    if (!intent || sandbox.isHidden(state.sessions.get(intent.sessionId)!))
      throw missing('payment_intent', id, 'intent');
    refreshIntent(intent);
    return { status: 200, body: sandbox.intentView(intent) };
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
}
