/**
 * Stripe's API (form-encoded bracket parameters, Stripe's error shape and codes, its idempotency):
 * Checkout Sessions (create, retrieve with `expand[]=payment_intent`, expire), payment intents,
 * refunds (create, retrieve, list; Boleto payments refused, as Stripe refuses them).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { draw } from '@payments/sandbox-kit';
import { apiOperations } from './api-operations';
import { ApiFailure, list, missing } from './api-params';
import { apiRoutes } from './api-route';
import type { StripeSandbox } from './sandbox';
import { refundView } from './views';

export function registerApi(app: FastifyInstance, sandbox: StripeSandbox): void {
  const { state, faults, log, refreshIntent } = sandbox;
  const api = apiRoutes(app, sandbox);
  const { createSession, findSession, expireSession, createRefund, listRefunds } = apiOperations(sandbox);
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
  api('GET', '/v1/checkout/sessions/:id', async (request, params) => {
    if (faults.current.queryLatencyMs > 0) await sleep(faults.current.queryLatencyMs);
    if (draw(faults.current.queryErrorRate)) throw fault('session retrieve');
    const expand = list(params.expand).includes('payment_intent');
    return {
      status: 200,
      body: sandbox.sessionView(findSession((request.params as { id: string }).id), expand),
    };
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
