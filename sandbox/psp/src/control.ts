/** The PSP's control API: the kit's (pay, faults, ledger, state, hidden trades), no auth; it stands for the shopper and the test harness. */
import type { FastifyInstance } from 'fastify';
import { projectLedger, registerControlApi, registerHiddenTrades } from '@payments/sandbox-kit';
import { httpStatus, iso } from './answers';
import type { PspSandbox } from './sandbox';
import { tradeStatus } from './state';

export function registerControl(app: FastifyInstance, sandbox: PspSandbox): void {
  const { state, now } = sandbox;
  registerControlApi(
    app,
    {
      pay(channelOrderNo) {
        const result = sandbox.pay(channelOrderNo);
        if (!result.ok)
          return {
            status: httpStatus(result.code),
            body: {
              error: { code: result.code, message: result.message },
              ...(result.trade ? { trade: sandbox.view(result.trade) } : {}),
            },
          };
        return { status: 200, body: sandbox.view(result.trade) };
      },
      ledger(filter) {
        const at = now();
        const { trades, refunds } = state.ledger(filter.merchantOrderNo);
        return projectLedger(filter, {
          trades,
          numbersOf: (trade) => trade,
          tradeEntry: (trade) => ({
            channelOrderNo: trade.channelOrderNo,
            merchantOrderNo: trade.merchantOrderNo,
            channel: trade.channel,
            amount: trade.amount,
            currency: trade.currency,
            status: tradeStatus(trade, at),
            paidAt: iso(trade.paidAt),
            queries: sandbox.queries.get(trade.channelOrderNo) ?? 0,
          }),
          refunds,
          tradeKey: (trade) => trade.channelOrderNo,
          refundTradeKey: (refund) => refund.channelOrderNo,
          refundEntry: (refund) => ({
            refundNo: refund.refundNo,
            channelOrderNo: refund.channelOrderNo,
            amount: refund.amount,
            status: refund.status,
          }),
        });
      },
      clear() {
        sandbox.cancelTimers();
        state.clear();
      },
    },
    sandbox.faults,
    sandbox.log,
  );
  registerHiddenTrades(app, sandbox.faults.hidden, sandbox.log);
}
