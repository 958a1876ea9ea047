/** What the shopper sees: the QR code's page (`weixin://wxpay/bizpayurl?pr=<token>` served as `/bizpayurl?pr=<token>`), and the pay button. */
import type { FastifyInstance } from 'fastify';
import { errorPage, tradePage } from './pages';
import type { WechatpaySandbox } from './sandbox';

export function registerShopperPages(app: FastifyInstance, sandbox: WechatpaySandbox): void {
  const { state, now } = sandbox;
  // The QR code's content, `weixin://wxpay/bizpayurl?pr=…`, as a page: opening it is scanning it.
  app.get<{ Querystring: { pr?: string } }>('/bizpayurl', async (request, reply) => {
    const trade = request.query.pr ? state.byPrepayToken(request.query.pr) : undefined;
    const html = reply.type('text/html; charset=utf-8');
    if (!trade) return html.code(404).send(errorPage('ORDER_NOT_EXIST', 'no such QR code'));
    return html.send(tradePage(trade, state.payable(trade, now())));
  });

  // The shopper's pay button.
  app.post<{ Params: { token: string } }>('/pay/:token', async (request, reply) => {
    const trade = state.byPrepayToken(request.params.token);
    const html = reply.type('text/html; charset=utf-8');
    if (!trade) return html.code(404).send(errorPage('ORDER_NOT_EXIST', 'no such order'));
    const paid = sandbox.pay(trade.outTradeNo);
    return html.code(paid.ok ? 200 : 409).send(tradePage(trade, state.payable(trade, now())));
  });
}
