/**
 * Alipay's control API: the kit's (pay, faults, ledger, state) and its own faults
 * (`PUT /sandbox/alipay-faults`: the bill's; reset by `DELETE /sandbox/faults` too), no auth; it
 * stands for the shopper and the test harness.
 */
import type { FastifyInstance } from 'fastify';
import {
  controlError,
  issuesOf,
  projectLedger,
  registerControlApi,
  type LedgerTrade,
} from '@payments/sandbox-kit';
import { alipayFaultsSchema, NO_ALIPAY_FAULTS } from './alipay-faults';
import { CNY } from './requests';
import type { AlipaySandbox } from './sandbox';
import type { Product, Trade } from './state';

export function registerControl(app: FastifyInstance, sandbox: AlipaySandbox): void {
  const { state, now } = sandbox;
  app.get('/sandbox/alipay-faults', async () => sandbox.alipayFaults);
  app.put('/sandbox/alipay-faults', async (request, reply) => {
    let body: unknown;
    try {
      body = typeof request.body === 'string' && request.body.trim() !== '' ? JSON.parse(request.body) : {};
    } catch {
      return reply.code(400).send(controlError('INVALID_REQUEST', 'body is not JSON'));
    }
    const parsed = alipayFaultsSchema.safeParse(body);
    if (!parsed.success) return reply.code(400).send(controlError('INVALID_REQUEST', issuesOf(parsed.error)));
    sandbox.alipayFaults = { ...sandbox.alipayFaults, ...parsed.data };
    sandbox.log.info({ alipayFaults: sandbox.alipayFaults }, 'alipay faults set');
    return sandbox.alipayFaults;
  });
  app.delete('/sandbox/alipay-faults', async () => (sandbox.alipayFaults = { ...NO_ALIPAY_FAULTS }));
  // Resetting the kit's faults resets Alipay's own too, so a test's cleanup needs one call.
  app.addHook('onRequest', async (request) => {
    if (request.method === 'DELETE' && request.url.split('?')[0] === '/sandbox/faults')
      sandbox.alipayFaults = { ...NO_ALIPAY_FAULTS };
  });
  const ledgerStatus = (trade: Trade): LedgerTrade['status'] => {
    const status = state.statusOf(trade, now());
    if (status === 'TRADE_SUCCESS') return 'PAID';
    if (status === 'WAIT_BUYER_PAY') return 'WAITING';
    return trade.closedByMerchant ? 'CLOSED' : 'EXPIRED';
  };

  registerControlApi(
    app,
    {
      pay(channelOrderNo) {
        const trade = state.get(channelOrderNo);
        if (!trade)
          return { status: 404, body: controlError('TRADE_NOT_FOUND', `no trade ${channelOrderNo}`) };
        const paid = sandbox.pay(trade);
        if (!paid.ok)
          return { status: 409, body: controlError(paid.code, 'trade already paid, closed or expired') };
        return { status: 200, body: sandbox.tradeAnswer(paid.trade) };
      },
      ledger(filter) {
        return projectLedger(filter, {
          trades: state.allTrades(),
          numbersOf: (trade) => ({
            channelOrderNo: trade.outTradeNo,
            merchantOrderNo: trade.merchantOrderNo,
          }),
          tradeEntry: (trade) => ({
            channelOrderNo: trade.outTradeNo,
            merchantOrderNo: trade.merchantOrderNo,
            channel: trade.product satisfies Product,
            amount: trade.amount,
            currency: CNY,
            status: ledgerStatus(trade),
            paidAt: trade.paidAt === null ? null : new Date(trade.paidAt).toISOString(),
          }),
          refunds: state.allRefunds(),
          tradeKey: (trade) => trade.outTradeNo,
          refundTradeKey: (refund) => refund.outTradeNo,
          refundEntry: (refund) => ({
            refundNo: refund.outRequestNo,
            channelOrderNo: refund.outTradeNo,
            amount: refund.amount,
            status: refund.status,
          }),
        });
      },
      clear() {
        sandbox.notifications.cancelAll();
        state.clear();
      },
    },
    sandbox.faults,
    sandbox.log,
  );
}
