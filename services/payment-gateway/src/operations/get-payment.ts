import { ApiError } from '@payments/core';
import type { GatewayDeps } from '../deps';
import { paymentBody } from './payment-view';

export async function getPayment(deps: Pick<GatewayDeps, 'repository'>, merchantOrderNo: string) {
  const payOrder = await deps.repository.findPayOrder(merchantOrderNo);
  if (!payOrder) throw new ApiError('NOT_FOUND', `no payment for order ${merchantOrderNo}`);
  const [attempts, refunds] = await Promise.all([
    deps.repository.attemptsOf(payOrder.id),
    deps.repository.refundsOf(payOrder.id),
  ]);
  return paymentBody(payOrder, attempts, refunds);
}
