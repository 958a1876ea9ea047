/**
 * WeChat Pay's control API: the kit's (pay, faults, ledger, state) and its own:
 * `POST /sandbox/trades/:no/start-paying` (the shopper enters the password: `USERPAYING`, until
 * `…/pay` completes it or `…/stop-paying` gives it up), `POST /sandbox/refunds/:outRefundNo/abnormal`
 * (a PROCESSING refund ends ABNORMAL now), and `PUT /sandbox/wechatpay-faults`
 * (`closeErrorCode`, `refundAbnormalRate`, `notifySignWith`, `answerSignWith`; reset by
 * `DELETE /sandbox/faults` too). No auth: it stands for the shopper and the test harness.
 */
import type { FastifyInstance } from 'fastify';
import {
  controlError,
  issuesOf,
  projectLedger,
  registerControlApi,
  type LedgerRefund,
  type LedgerTrade,
} from '@payments/sandbox-kit';
import type { WechatpaySandbox } from './sandbox';
import type { Refund, Trade } from './state';
import { refundView } from './views';
import { NO_WECHATPAY_FAULTS, wechatpayFaultsSchema } from './wechatpay-faults';

export function registerControl(app: FastifyInstance, sandbox: WechatpaySandbox): void {
  const { state, faults, log, now } = sandbox;
  // The shopper scans the code and starts entering the password; then `…/pay` completes it.
  app.post<{ Params: { channelOrderNo: string } }>(
    '/sandbox/trades/:channelOrderNo/start-paying',
    async (request, reply) => {
      const started = state.startPaying(request.params.channelOrderNo, now());
      log.info(
        { channelOrderNo: request.params.channelOrderNo, outcome: started.ok || started.code },
        'start paying',
      );
      if (started.ok) return reply.send(sandbox.transaction(started.trade));
      if (started.code === 'ORDER_NOT_EXIST')
        return reply
          .code(404)
          .send(controlError('TRADE_NOT_FOUND', `no order ${request.params.channelOrderNo}`));
      return reply.code(409).send(controlError(started.code, 'order already paid, closed or expired'));
    },
  );
  // The shopper gives the password entry up: the order waits again (NOTPAY).
  app.post<{ Params: { channelOrderNo: string } }>(
    '/sandbox/trades/:channelOrderNo/stop-paying',
    async (request, reply) => {
      const stopped = state.stopPaying(request.params.channelOrderNo);
      if (stopped.ok) return reply.send(sandbox.transaction(stopped.trade));
      if (stopped.code === 'ORDER_NOT_EXIST')
        return reply
          .code(404)
          .send(controlError('TRADE_NOT_FOUND', `no order ${request.params.channelOrderNo}`));
      return reply.code(409).send(controlError(stopped.code, 'order not in payment'));
    },
  );
  // A PROCESSING refund ends ABNORMAL now (the shopper's card closed): REFUND.ABNORMAL is notified.
  app.post<{ Params: { outRefundNo: string } }>(
    '/sandbox/refunds/:outRefundNo/abnormal',
    async (request, reply) => {
      const found = state.findRefund(request.params.outRefundNo);
      if (!found.ok)
        return reply
          .code(404)
          .send(controlError('REFUND_NOT_FOUND', `no refund ${request.params.outRefundNo}`));
      if (found.refund.status !== 'PROCESSING')
        return reply
          .code(409)
          .send(controlError('REFUND_NOT_PROCESSING', `refund is ${found.refund.status}`));
      const ended = sandbox.refundEnded(request.params.outRefundNo, 'ABNORMAL');
      return reply.send(ended && refundView(ended.refund, ended.trade));
    },
  );

  app.get('/sandbox/wechatpay-faults', async () => sandbox.wechatpayFaults);
  app.put('/sandbox/wechatpay-faults', async (request, reply) => {
    let body: unknown;
    try {
      body = typeof request.body === 'string' && request.body.trim() !== '' ? JSON.parse(request.body) : {};
    } catch {
      return reply.code(400).send(controlError('INVALID_REQUEST', 'body is not JSON'));
    }
    const parsed = wechatpayFaultsSchema.safeParse(body);
    if (!parsed.success) return reply.code(400).send(controlError('INVALID_REQUEST', issuesOf(parsed.error)));
    sandbox.wechatpayFaults = { ...sandbox.wechatpayFaults, ...parsed.data };
    log.info({ wechatpayFaults: sandbox.wechatpayFaults }, 'wechatpay faults set');
    return sandbox.wechatpayFaults;
  });
  app.delete('/sandbox/wechatpay-faults', async () => (sandbox.wechatpayFaults = { ...NO_WECHATPAY_FAULTS }));
  // Resetting the kit's faults resets WeChat Pay's own too, so a test's cleanup needs one call.
  app.addHook('onRequest', async (request) => {
    if (request.method === 'DELETE' && request.url.split('?')[0] === '/sandbox/faults')
      sandbox.wechatpayFaults = { ...NO_WECHATPAY_FAULTS };
  });

  const ledgerStatus = (trade: Trade): LedgerTrade['status'] => {
    if (trade.state === 'SUCCESS' || trade.state === 'REFUND') return 'PAID';
    if (trade.state === 'CLOSED') return 'CLOSED';
    return state.payable(trade, now()) ? 'WAITING' : 'EXPIRED';
  };
  const ledgerRefundStatus = (refund: Refund): LedgerRefund['status'] => {
    if (refund.status === 'SUCCESS' || refund.status === 'PROCESSING') return refund.status;
    return 'FAILED';
  };

  registerControlApi(
    app,
    {
      pay(channelOrderNo) {
        const paid = sandbox.pay(channelOrderNo);
        if (paid.ok) return { status: 200, body: sandbox.transaction(paid.trade) };
        if (paid.code === 'ORDER_NOT_EXIST')
          return { status: 404, body: controlError('TRADE_NOT_FOUND', `no order ${channelOrderNo}`) };
        return { status: 409, body: controlError(paid.code, 'order already paid, closed or expired') };
      },
      ledger(filter) {
        return projectLedger(filter, {
          trades: state.allTrades(),
          numbersOf: (trade) => ({ channelOrderNo: trade.outTradeNo, merchantOrderNo: trade.attach }),
          tradeEntry: (trade) => ({
            channelOrderNo: trade.outTradeNo,
            merchantOrderNo: trade.attach,
            channel: 'wechat-native',
            amount: trade.amount,
            currency: 'CNY',
            status: ledgerStatus(trade),
            paidAt: trade.successTime === null ? null : new Date(trade.successTime).toISOString(),
          }),
          refunds: state.allRefunds(),
          tradeKey: (trade) => trade.outTradeNo,
          refundTradeKey: (refund) => refund.outTradeNo,
          refundEntry: (refund) => ({
            refundNo: refund.outRefundNo,
            channelOrderNo: refund.outTradeNo,
            amount: refund.amount,
            status: ledgerRefundStatus(refund),
          }),
        });
      },
      clear() {
        sandbox.cancelAll();
        state.clear();
      },
    },
    faults,
    log,
  );
}
