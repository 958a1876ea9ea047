import { ApiError, type ApplyRequest, type AttemptStatus, type PayOrderStatus } from '@payments/core';

export interface ExistingOrder {
  status: PayOrderStatus;
  amount: number;
  currency: string;
  expireAt: Date;
}

export interface InflightAttempt {
  channelOrderNo: string;
  channel: string;
  status: AttemptStatus;
  expireAt: Date;
}

export type ApplyDecision =
  | { action: 'REUSE'; attempt: InflightAttempt }
  /** Create a new attempt, after trying to close the other channels' attempts still in flight. */
  | { action: 'CREATE'; closeFirst: InflightAttempt[] };

const closedError = () => new ApiError('ORDER_CLOSED', 'this order is closed or expired');

/** A pay order that is PAID or CLOSED takes no new attempt: throws the refusal. */
export function refuseIfFinal(status: PayOrderStatus): void {
  if (status === 'PAID') throw new ApiError('ORDER_ALREADY_PAID', 'this order is already paid');
  if (status === 'CLOSED') throw closedError();
}

/** The same order number for other money is refused: its first amount and currency stand. */
export function refuseIfOtherMoney(
  order: { amount: number; currency: string },
  request: { amount: number; currency: string },
): void {
  if (order.amount !== request.amount || order.currency !== request.currency)
    throw new ApiError(
      'AMOUNT_MISMATCH',
      `this order was applied for ${order.amount} ${order.currency}, not ${request.amount} ${request.currency}`,
    );
}

/**
 * DESIGN rule 2, pure: refuse (throws `ApiError`), reuse the same channel's attempt in flight
 * (one QR code per order and channel however many clicks), or create a new one.
 */
export function decideApply(
  order: ExistingOrder | undefined,
  request: Pick<ApplyRequest, 'amount' | 'currency' | 'channel'>,
  inflight: InflightAttempt[],
  now: Date,
): ApplyDecision {
  if (!order) return { action: 'CREATE', closeFirst: [] };
  refuseIfFinal(order.status);
  if (order.expireAt.getTime() <= now.getTime()) throw closedError();
  refuseIfOtherMoney(order, request);
  const paying = inflight.filter((attempt) => attempt.status === 'PAYING');
  const sameChannel = paying.find(
    (attempt) => attempt.channel === request.channel && attempt.expireAt.getTime() > now.getTime(),
  );
  if (sameChannel) return { action: 'REUSE', attempt: sameChannel };
  return { action: 'CREATE', closeFirst: paying.filter((attempt) => attempt.channel !== request.channel) };
}
