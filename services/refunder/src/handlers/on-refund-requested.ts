import type { Delivery, HandlerResult } from '@payments/platform';
import type { EventEnvelope } from '@payments/core';
import type { RefunderDeps } from '../deps';
import { REFUND_STEP_HEADER, sendRefund } from '../operations/send-refund';

export { REFUND_STEP_HEADER };

/** `refund.requested`: send the refund, or ask the provider how it stands (see `sendRefund`). */
export async function onRefundRequested(
  delivery: Delivery<EventEnvelope<'refund.requested'>>,
  deps: RefunderDeps,
): Promise<HandlerResult> {
  const step = Number(delivery.message.properties.headers?.[REFUND_STEP_HEADER] ?? 0);
  return sendRefund(deps, delivery.log, delivery.body.data.refundNo, step);
}
