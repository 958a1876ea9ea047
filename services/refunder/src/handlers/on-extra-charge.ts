import { PermanentError, type Delivery } from '@payments/platform';
import { type EventEnvelope, type RefundReason } from '@payments/core';
import { riskLimits, type RefunderDeps } from '../deps';

export type ExtraChargeEvent =
  EventEnvelope<'payment.duplicate_detected'> | EventEnvelope<'payment.paid_after_close'>;

const REASONS: Record<ExtraChargeEvent['type'], RefundReason> = {
  'payment.duplicate_detected': 'DUPLICATE_PAYMENT',
  'payment.paid_after_close': 'PAID_AFTER_CLOSE',
};

/**
 * `payment.duplicate_detected` / `payment.paid_after_close`: create the refund (once per attempt
 * and reason). A refund the hard checks refuse is an anomaly: not sent, parked for a person.
 */
export async function onExtraCharge(delivery: Delivery<ExtraChargeEvent>, deps: RefunderDeps): Promise<void> {
  const event = delivery.body;
  const reason = REASONS[event.type];
  const result = await deps.refunds.request(event.data.channelOrderNo, reason, riskLimits(deps.config));
  switch (result.outcome) {
    case 'CREATED':
      deps.relay.kick();
      deps.metrics.refunds.inc({ reason, status: result.refund.status });
      delivery.log.info(
        { refundNo: result.refund.refund_no, status: result.refund.status },
        'refund requested',
      );
      return;
    case 'EXISTS':
      return;
    case 'REFUSED':
      deps.metrics.anomalies.inc();
      delivery.log.error(
        { channelOrderNo: event.data.channelOrderNo, reason, problem: result.problem },
        'refund refused by the hard checks',
      );
      throw new PermanentError(`refund refused: ${result.problem}`);
    default: {
      const unknown: never = result;
      throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
    }
  }
}
