import { errorMessage } from '@payments/platform';
import { ApiError, closeAndSettle, closePayOrder } from '@payments/core';
import { orderLock, orderLockName, type GatewayDeps } from '../deps';
import { getPayment } from './get-payment';

/**
 * The merchant cancelled the order: CLOSED (with `payment.closed`), then close its attempts in
 * flight at their providers. An attempt that turns out paid is settled as paid after close and
 * the refunder gives the money back.
 */
export async function closePayment(deps: GatewayDeps, merchantOrderNo: string) {
  const outcome = await deps.lock.withLock(
    orderLockName(merchantOrderNo),
    orderLock(deps.config),
    async () => {
      const payOrder = await deps.repository.findPayOrder(merchantOrderNo);
      if (!payOrder) throw new ApiError('NOT_FOUND', `no payment for order ${merchantOrderNo}`);
      if (payOrder.status === 'PAID') throw new ApiError('ORDER_ALREADY_PAID', 'this order is already paid');
      if (payOrder.status !== 'CLOSED' && !(await closePayOrder(deps.dataSource, payOrder.id, 'CANCELLED'))) {
        const now = await deps.repository.findPayOrder(merchantOrderNo);
        if (now?.status === 'PAID') throw new ApiError('ORDER_ALREADY_PAID', 'this order is already paid');
      }
      await deps.finalStatus.remember(merchantOrderNo, 'CLOSED');
      deps.relay.kick();
      for (const attempt of await deps.repository.attemptsOf(payOrder.id)) {
        const channel = deps.servedChannels.get(attempt.channel);
        if (attempt.status !== 'PAYING' || !channel) continue;
        try {
          deps.metrics.observeSettlement((await closeAndSettle(deps.dataSource, channel, attempt)).result);
        } catch (error) {
          // The poller keeps asking until the attempt is final; nothing is lost.
          deps.log.warn(
            { channelOrderNo: attempt.channel_order_no, err: errorMessage(error) },
            'close at provider failed',
          );
        }
      }
      deps.relay.kick();
      return getPayment(deps, merchantOrderNo);
    },
  );
  if (!outcome.acquired)
    throw new ApiError('PAYMENT_IN_PROGRESS', 'another request for this order is in progress; try again');
  return outcome.result;
}
