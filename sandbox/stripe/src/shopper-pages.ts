/**
 * What the shopper sees: the hosted Checkout stand-in (`/c/pay/<session>`: a card, or a Boleto
 * voucher issued), the voucher (`/voucher/<intent>`, payable there until its own expiry, 23:59:59
 * São Paulo time `expires_after_days` calendar days after it was issued, and failed after it).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorPage, sessionPage, voucherPage } from './pages';
import type { StripeSandbox } from './sandbox';
import type { Session } from './state';

export function registerShopperPages(app: FastifyInstance, sandbox: StripeSandbox): void {
  const { state, intentOf, refresh, refreshIntent, payCard, issueVoucher, payVoucher } = sandbox;
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
}
