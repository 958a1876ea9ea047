import {
  attemptRef,
  ChannelRejectedError,
  ChannelUnavailableError,
  errorMessage,
  notifyUrlOf,
  PermanentError,
  type Delivery,
  type EventEnvelope,
  type HandlerResult,
  type ProviderRefundStatus,
  waitForUnservedChannel,
} from '@payments/common';
import type { RefunderDeps } from '../deps';
import { refundProblem } from '../domain/refund-rules';

export const REFUND_STEP_HEADER = 'x-refund-step';

/**
 * `refund.requested`: send the refund to the provider (idempotent by refund number), then poll it
 * by REFUND_POLL_SCHEDULE (its last step repeating) until SUCCESS or FAILED. A refund that
 * waits for approval is left alone; a FAILED one goes to the dlq for a person, not retried blindly.
 * A refund the provider does not know when asked (never received, or failed: Alipay answers both
 * alike) is sent again with the same number, once per step of the schedule; once the schedule is
 * spent it is owed by hand (`MANUAL_REQUIRED`, an alert), never taken as money returned. So is a
 * refund the provider cannot make (the channel is not `refundable`) or holds for the merchant to
 * act on (WeChat Pay `ABNORMAL`): nothing more is sent for the same money.
 */
export async function onRefundRequested(
  delivery: Delivery<EventEnvelope<'refund.requested'>>,
  deps: RefunderDeps,
): Promise<HandlerResult> {
  const refund = await deps.refunds.find(delivery.body.data.refundNo);
  if (!refund) throw new PermanentError(`no refund ${delivery.body.data.refundNo}`);
  if (refund.status !== 'PROCESSING') return; // waits for approval, or already finished
  const step = Number(delivery.message.properties.headers?.[REFUND_STEP_HEADER] ?? 0);
  const schedule = deps.config.REFUND_POLL_SCHEDULE;
  const later = (nextStep: number): HandlerResult => ({
    reschedule: {
      delayMs: schedule[Math.min(nextStep - 1, schedule.length - 1)]!,
      headers: { [REFUND_STEP_HEADER]: nextStep },
    },
  });

  const attempt = await deps.refunds.findAttempt(refund.channel_order_no);
  const channel = attempt && deps.channels.get(attempt.channel);
  if (!attempt) throw new PermanentError(`refund ${refund.refund_no}: attempt unknown`);
  if (!channel)
    return waitForUnservedChannel(
      delivery.log,
      attempt.channel,
      { refundNo: refund.refund_no },
      deps.config.RETRY_SCHEDULE,
    );

  /** MANUAL_REQUIRED with what a person must do, its event, an alert; once. */
  const oweByHand = async (why: string): Promise<void> => {
    if (!(await deps.refunds.requireManual(refund, why))) return;
    deps.relay.kick();
    deps.metrics.refunds.inc({ reason: refund.reason, status: 'MANUAL_REQUIRED' });
    delivery.log.error(
      {
        refundNo: refund.refund_no,
        channelOrderNo: attempt.channel_order_no,
        amount: Number(refund.amount),
        currency: refund.currency,
      },
      `refund owed by hand: ${why}`,
    );
  };
  const heldByProvider = () =>
    oweByHand(
      `${channel.name}: the provider holds the refund for the merchant to act on; ${
        channel.manualRefundAdvice ??
        "finish it in the provider's merchant platform, or pay it back outside and record it with payctl refund settle-manually"
      }`,
    );

  let status: ProviderRefundStatus;
  try {
    const known = step === 0 ? 'NOT_FOUND' : await channel.queryRefund(refund.refund_no, attemptRef(attempt));
    if (known === 'NOT_FOUND' && step > schedule.length) {
      await oweByHand(
        `${channel.name}: the provider never confirmed the refund through ${schedule.length + 1} sends with the same refund number; check it in the provider's portal, then payctl refund retry, or pay it back outside and record it with payctl refund settle-manually`,
      );
      return;
    }
    if (known === 'NOT_FOUND') {
      // Checked again right before money moves: the state may have changed since the request.
      const [payOrder] = await deps.refunds.payOrderOf(refund);
      const problem = refundProblem({
        reason: refund.reason,
        attempt: {
          channelOrderNo: attempt.channel_order_no,
          status: attempt.status,
          amount: Number(attempt.amount),
          currency: attempt.currency,
        },
        payOrder: { status: payOrder.status, paidChannelOrderNo: payOrder.paid_channel_order_no },
        refund: { amount: Number(refund.amount), currency: refund.currency },
        otherRefunds: (await deps.refunds.othersOf(refund)).map((other) => ({
          refundNo: other.refund_no,
          status: other.status,
        })),
      });
      if (problem) {
        deps.metrics.anomalies.inc();
        await deps.refunds.finish(refund, 'FAILED', `refused by the hard checks: ${problem}`);
        deps.relay.kick();
        throw new PermanentError(`refund ${refund.refund_no} refused: ${problem}`);
      }
      if (!channel.refundable) {
        // Stripe refunds no Boleto payment: nothing is sent; a person pays it back and records it.
        await oweByHand(
          `${channel.name} payments cannot be refunded through the provider; pay it back and record it with payctl refund settle-manually`,
        );
        return;
      }
      status = await channel.refund({
        refundNo: refund.refund_no,
        attempt: attemptRef(attempt),
        money: { amount: Number(refund.amount), currency: refund.currency },
        paid: { amount: Number(attempt.amount), currency: attempt.currency },
        notifyUrl: notifyUrlOf(channel, deps.config.GATEWAY_PUBLIC_URL),
      });
    } else {
      status = known;
    }
  } catch (error) {
    if (error instanceof ChannelUnavailableError) {
      await deps.refunds.touch(refund, errorMessage(error));
      delivery.log.warn(
        { refundNo: refund.refund_no, err: errorMessage(error) },
        'provider refund call failed; asking again later',
      );
      return later(Math.max(step, 1));
    }
    if (error instanceof ChannelRejectedError) {
      await deps.refunds.finish(refund, 'FAILED', errorMessage(error));
      deps.relay.kick();
      deps.metrics.refunds.inc({ reason: refund.reason, status: 'FAILED' });
    }
    throw error;
  }

  switch (status) {
    case 'SUCCESS':
      if (await deps.refunds.finish(refund, 'SUCCESS')) {
        deps.relay.kick();
        deps.metrics.refunds.inc({ reason: refund.reason, status: 'SUCCESS' });
      }
      return;
    case 'FAILED':
      if (await deps.refunds.finish(refund, 'FAILED', 'the provider failed the refund')) {
        deps.relay.kick();
        deps.metrics.refunds.inc({ reason: refund.reason, status: 'FAILED' });
      }
      throw new PermanentError(`refund ${refund.refund_no} FAILED at the provider: a person must decide`);
    case 'MANUAL_REQUIRED':
      await heldByProvider();
      return;
    case 'PROCESSING':
      await deps.refunds.touch(refund);
      return later(step + 1);
    default: {
      const unknown: never = status;
      throw new Error(`unknown refund status ${String(unknown)}`);
    }
  }
}
