/** The shopper's pay page: what the wallet's pay URL opens and the QR code's content points at. */
import type { FastifyInstance } from 'fastify';
import { errorPage, tradePage } from './pages';
import type { PspSandbox } from './sandbox';
import { tradeStatus } from './state';

export function registerShopperPages(app: FastifyInstance, sandbox: PspSandbox): void {
  const { state, now } = sandbox;
  app.get<{ Params: { channelOrderNo: string } }>('/pay/:channelOrderNo', async (request, reply) => {
    const result = state.getTrade(request.params.channelOrderNo);
    reply.type('text/html; charset=utf-8');
    if (!result.ok) return reply.code(404).send(errorPage(result.message));
    return reply.send(tradePage(result.trade, tradeStatus(result.trade, now())));
  });
  app.post<{ Params: { channelOrderNo: string } }>('/pay/:channelOrderNo', async (request, reply) => {
    const result = sandbox.pay(request.params.channelOrderNo);
    reply.type('text/html; charset=utf-8');
    if (!result.ok && !result.trade) return reply.code(404).send(errorPage(result.message));
    const trade = result.ok ? result.trade : result.trade!;
    return reply.code(result.ok ? 200 : 409).send(tradePage(trade, tradeStatus(trade, now())));
  });
}
