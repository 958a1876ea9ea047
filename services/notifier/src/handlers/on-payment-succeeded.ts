import {
  errorMessage,
  PermanentError,
  Schedule,
  type Delivery,
  type HandlerResult,
} from '@payments/platform';
import { type EventEnvelope, type OrderNotification } from '@payments/core';
import type { NotifierDeps } from '../deps';
import { callsAtStep, decideAfterFailure } from '../domain/notify-plan';

/** Which step of NOTIFY_SCHEDULE a message is at; travels in its headers. */
export const NOTIFY_STEP_HEADER = 'x-notify-step';

export function toNotification(event: EventEnvelope<'payment.succeeded'>): OrderNotification {
  const { data } = event;
  return {
    eventId: event.eventId,
    type: 'payment.succeeded',
    merchantOrderNo: data.merchantOrderNo,
    payOrderNo: data.payOrderNo,
    amount: data.amount,
    currency: data.currency,
    channel: data.channel,
    channelOrderNo: data.channelOrderNo,
    paidAt: data.paidAt,
  };
}

/**
 * A message straight from the events exchange, delivered for the first time: the relay's publish
 * of the event, not a redelivery, a retry back from a tier, a sweep's resend or a replay (those
 * come through other exchanges). Its log row is not read first: an event delivered already (the
 * relay published it twice) is told once more, which CONTRACT 5 allows (at least once, the same
 * eventId), and `markDelivered` then writes nothing and no second `order.notified`.
 */
function isFirstArrival(
  delivery: Delivery<EventEnvelope<'payment.succeeded'>>,
  step: number,
  deps: NotifierDeps,
): boolean {
  const { fields } = delivery.message;
  return step === 0 && !fields.redelivered && fields.exchange === deps.eventsExchange;
}

/**
 * Tells the order service a payment succeeded (DESIGN rule 5): quick tries through the breaker,
 * then queued retries by NOTIFY_SCHEDULE, then the dlq with the last error. An open breaker
 * defers to the next step without calling; an event already delivered is not sent again.
 */
export async function onPaymentSucceeded(
  delivery: Delivery<EventEnvelope<'payment.succeeded'>>,
  deps: NotifierDeps,
): Promise<HandlerResult> {
  const event = delivery.body;
  const step = Number(delivery.message.properties.headers?.[NOTIFY_STEP_HEADER] ?? 0);
  if (
    !isFirstArrival(delivery, step, deps) &&
    (await deps.notifications.status(event.eventId)) === 'DELIVERED'
  ) {
    deps.metrics.notifications.inc({ result: 'skipped' });
    return;
  }

  let calls = 0;
  let lastError = 'order service circuit open: not called';
  if (!deps.orderService.opened) {
    for (let i = 0; i < callsAtStep(step) && !deps.orderService.opened; i++) {
      calls += 1;
      try {
        await deps.orderService.fire(toNotification(event));
      } catch (error) {
        lastError = errorMessage(error);
        continue;
      }
      // Told. A failure to record it is ours, not the order service's: it throws to the consumer
      // wrapper (delayed retry; the repeat call is de-duplicated by eventId), never counts as a
      // failed call.
      const notified = await deps.notifications.markDelivered(event, calls);
      if (notified) {
        deps.relay.publishCommitted([notified]);
        deps.metrics.latency.observe((Date.now() - new Date(event.occurredAt).getTime()) / 1000);
      }
      deps.metrics.notifications.inc({ result: 'delivered' });
      return;
    }
  }

  await deps.notifications.recordFailure(event, calls, lastError);
  const decision = decideAfterFailure(Schedule.of(deps.config.NOTIFY_SCHEDULE), step);
  if (decision.action === 'RETRY_LATER') {
    deps.metrics.notifications.inc({ result: 'retry' });
    delivery.log.warn(
      { step, calls, err: lastError, delayMs: decision.delayMs },
      'order service not told yet; retrying later',
    );
    return {
      reschedule: { delayMs: decision.delayMs, headers: { [NOTIFY_STEP_HEADER]: decision.nextStep } },
    };
  }
  await deps.notifications.markFailed(event, lastError);
  deps.relay.kick();
  deps.metrics.notifications.inc({ result: 'failed' });
  throw new PermanentError(`notify schedule spent: ${lastError}`);
}
