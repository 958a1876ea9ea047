/**
 * What the shopper sees of Alipay: page pay's cashier (`GET /gateway.do?method=alipay.trade.page.pay&…`,
 * v2 signed), back to `return_url` with signed parameters once paid; the QR code's page
 * (`/qr/<out_trade_no>`: opening it is scanning it); and the pay button.
 */
import type { FastifyInstance } from 'fastify';
import { errorMessage } from '@payments/platform';
import { toDecimalString } from '@payments/core';
import { chinaDateTime } from '@payments/providers';
import { draw } from '@payments/sandbox-kit';
import { errorPage, tradePage } from './pages';
import { CNY, newTrade, pageBizContent } from './requests';
import type { AlipaySandbox } from './sandbox';
import { signV2, verifyV2Request } from './signing';

export function registerShopperPages(app: FastifyInstance, sandbox: AlipaySandbox): void {
  const { state, faults, log, now, options } = sandbox;

  // Page pay: the signed URL the SDK's pageExecute made; opening it brings the trade into being.
  app.get('/gateway.do', async (request, reply) => {
    const params = Object.fromEntries(new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1)));
    const html = (status: number, text: string) =>
      reply.code(status).type('text/html; charset=utf-8').send(text);
    if (params.method !== 'alipay.trade.page.pay')
      return html(
        400,
        errorPage('invalid-method', `this sandbox serves alipay.trade.page.pay, not ${params.method}`),
      );
    if (params.app_id !== options.appId)
      return html(400, errorPage('invalid-app-id', `unknown app_id ${params.app_id}`));
    if (params.sign_type !== 'RSA2' || !verifyV2Request(params, options.appPublicKey))
      return html(400, errorPage('invalid-signature', 'sign does not verify'));
    let biz;
    try {
      biz = pageBizContent.parse(JSON.parse(params.biz_content ?? ''));
    } catch (error) {
      return html(400, errorPage('ACQ.INVALID_PARAMETER', errorMessage(error)));
    }
    if (draw(faults.current.createErrorRate))
      return html(500, errorPage('ACQ.SYSTEM_ERROR', 'sandbox fault'));
    const created = state.create(
      newTrade(biz, 'alipay-page', params.notify_url, params.return_url),
      now(),
      true,
    );
    if (!created.ok) return html(400, errorPage(created.code, created.message));
    log.info({ outTradeNo: biz.out_trade_no, created: created.created }, 'page opened');
    return html(200, tradePage(created.trade, state.statusOf(created.trade, now())));
  });

  // The QR code's content: opening it is the shopper scanning it.
  app.get<{ Params: { outTradeNo: string } }>('/qr/:outTradeNo', async (request, reply) => {
    const trade = state.open(request.params.outTradeNo);
    const html = reply.type('text/html; charset=utf-8');
    if (!trade) return html.code(404).send(errorPage('ACQ.TRADE_NOT_EXIST', 'no such QR code'));
    return html.send(tradePage(trade, state.statusOf(trade, now())));
  });

  // The shopper's pay button.
  app.post<{ Params: { outTradeNo: string } }>('/pay/:outTradeNo', async (request, reply) => {
    const trade = state.get(request.params.outTradeNo);
    const html = reply.type('text/html; charset=utf-8');
    if (!trade) return html.code(404).send(errorPage('ACQ.TRADE_NOT_EXIST', 'no such trade'));
    const paid = sandbox.pay(trade);
    if (!paid.ok) return html.code(409).send(tradePage(trade, state.statusOf(trade, now())));
    if (trade.product === 'alipay-page' && trade.returnUrl) {
      const back = new URL(trade.returnUrl);
      const signed = signV2(
        {
          app_id: options.appId,
          method: 'alipay.trade.page.pay.return',
          charset: 'utf-8',
          sign_type: 'RSA2',
          version: '1.0',
          timestamp: chinaDateTime(new Date(now())),
          out_trade_no: trade.outTradeNo,
          trade_no: trade.tradeNo,
          total_amount: toDecimalString(trade.amount, CNY),
        },
        options.alipayPrivateKey,
      );
      for (const [name, value] of Object.entries(signed)) back.searchParams.set(name, value);
      return reply.redirect(back.toString(), 303);
    }
    return html.send(tradePage(trade, 'TRADE_SUCCESS'));
  });
}
