import { errorMessage, PermanentError, Schedule, type HandlerResult, type Logger } from '@payments/platform';
import {
  attemptRef,
  attemptState,
  ChannelRejectedError,
  ChannelUnavailableError,
  notifyUrlOf,
  waitForUnservedChannel,
  type AttemptRow,
  type PaymentChannel,
  type ProviderRefundStatus,
  type RefundRow,
} from '@payments/core';
import type { RefunderDeps } from '../deps';
import { refundProblem } from '../domain/refund-rules';

/** Which step of REFUND_POLL_SCHEDULE a refund's message is at; travels in its headers. */
export const REFUND_STEP_HEADER = 'x-refund-step';

/** One refund being sent, with what every step of it needs. */
interface RefundAtHand {
  deps: RefunderDeps;
  log: Logger;
  refund: RefundRow;
  attempt: AttemptRow;
  channel: PaymentChannel;
}

/**
 * Sends a refund to the provider (idempotent by refund number), then polls it by
 * REFUND_POLL_SCHEDULE (its last step repeating) until SUCCESS or FAILED. A refund that waits for
 * approval is left alone; a FAILED one goes to the dlq for a person, not retried blindly. A refund
 * the provider does not know when asked (never received, or failed: Alipay answers both alike) is
 * sent again with the same number, once per step of the schedule; once the schedule is spent it is
 * owed by hand (`MANUAL_REQUIRED`, an alert), never taken as money returned. So is a refund the
 * provider cannot make (the channel is not `refundable`) or holds for the merchant to act on
 * (WeChat Pay `ABNORMAL`): nothing more is sent for the same money.
 */
export async function sendRefund(
  deps: RefunderDeps,
  log: Logger,
  refundNo: string,
  step: number,
): Promise<HandlerResult> {
  const refund = await deps.refunds.find(refundNo);
  if (!refund) throw new PermanentError(`no refund ${refundNo}`);
  if (refund.status !== 'PROCESSING') return; // waits for approval, or already finished
  const schedule = Schedule.of(deps.config.REFUND_POLL_SCHEDULE);
  const later = (nextStep: number): HandlerResult => ({
    reschedule: { delayMs: schedule.delayAt(nextStep - 1), headers: { [REFUND_STEP_HEADER]: nextStep } },
  });

  const attempt = await deps.refunds.findAttempt(refund.channel_order_no);
  const channel = attempt && deps.channels.get(attempt.channel);
  if (!attempt) throw new PermanentError(`refund ${refund.refund_no}: attempt unknown`);
  if (!channel)
    return waitForUnservedChannel(
      log,
      attempt.channel,
      { refundNo: refund.refund_no },
      deps.config.RETRY_SCHEDULE,
    );
  const atHand: RefundAtHand = { deps, log, refund, attempt, channel };

  let status: ProviderRefundStatus;
  try {
    const known = step === 0 ? 'NOT_FOUND' : await channel.queryRefund(refund.refund_no, attemptRef(attempt));
    if (known === 'NOT_FOUND' && step > schedule.length) {
      await oweByHand(
        atHand,
        `${channel.name}: the provider never confirmed the refund through ${schedule.length + 1} sends with the same refund number; check it in the provider's portal, then payctl refund retry, or pay it back outside and record it with payctl refund settle-manually`,
      );
      return;
    }
    if (known !== 'NOT_FOUND') status = known;
    else {
      const sent = await checkAndSend(atHand);
      if (sent === 'OWED_BY_HAND') return;
      status = sent;
    }
  } catch (error) {
    if (error instanceof ChannelUnavailableError) {
      await deps.refunds.touch(refund, errorMessage(error));
      log.warn(
        { refundNo: refund.refund_no, err: errorMessage(error) },
        'provider refund call failed; asking again later',
      );
      return later(Math.max(step, 1));
    }
    if (error instanceof ChannelRejectedError) await finish(atHand, 'FAILED', errorMessage(error), 'ALWAYS');
    throw error;
  }

  switch (status) {
    case 'SUCCESS':
      await finish(atHand, 'SUCCESS');
      return;
    case 'FAILED':
      await finish(atHand, 'FAILED', 'the provider failed the refund');
      throw new PermanentError(`refund ${refund.refund_no} FAILED at the provider: a person must decide`);
    case 'MANUAL_REQUIRED':
      await oweByHand(
        atHand,
        `${channel.name}: the provider holds the refund for the merchant to act on; ${
          channel.manualRefundAdvice ??
          "finish it in the provider's merchant platform, or pay it back outside and record it with payctl refund settle-manually"
        }`,
      );
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

/**
 * The hard checks, again right before money moves (the state may have changed since the request),
 * then the refund itself. A refund the checks refuse is FAILED and dead-lettered; one the channel
 * cannot make is owed by hand and nothing is sent.
 */
async function checkAndSend(atHand: RefundAtHand): Promise<ProviderRefundStatus | 'OWED_BY_HAND'> {
  const { deps, refund, attempt, channel } = atHand;
  const [payOrder] = await deps.refunds.payOrderOf(refund);
  const problem = refundProblem({
    reason: refund.reason,
    attempt: attemptState(attempt),
    payOrder: { status: payOrder.status, paidChannelOrderNo: payOrder.paid_channel_order_no },
    refund: { amount: Number(refund.amount), currency: refund.currency },
    otherRefunds: (await deps.refunds.othersOf(refund)).map((other) => ({
      refundNo: other.refund_no,
      status: other.status,
    })),
  });
  if (problem) {
    deps.metrics.anomalies.inc();
    await finish(atHand, 'FAILED', `refused by the hard checks: ${problem}`, 'NEVER');
    throw new PermanentError(`refund ${refund.refund_no} refused: ${problem}`);
  }
  if (!channel.refundable) {
    // Stripe refunds no Boleto payment: nothing is sent; a person pays it back and records it.
    await oweByHand(
      atHand,
      `${channel.name} payments cannot be refunded through the provider; pay it back and record it with payctl refund settle-manually`,
    );
    return 'OWED_BY_HAND';
  }
  return channel.refund({
    refundNo: refund.refund_no,
    attempt: attemptRef(attempt),
    money: { amount: Number(refund.amount), currency: refund.currency },
    paid: { amount: Number(attempt.amount), currency: attempt.currency },
    notifyUrl: notifyUrlOf(channel, deps.config.GATEWAY_PUBLIC_URL),
  });
}

/**
 * Ends the refund SUCCESS or FAILED, publishes its event and counts it. `counted`: 'IF_FINISHED'
 * (once, by whoever finished it), 'ALWAYS' (a refusal, whoever finished it), 'NEVER' (counted as
 * an anomaly instead).
 */
async function finish(
  { deps, refund }: RefundAtHand,
  status: 'SUCCESS' | 'FAILED',
  why?: string,
  counted: 'IF_FINISHED' | 'ALWAYS' | 'NEVER' = 'IF_FINISHED',
): Promise<void> {
  const finished = await deps.refunds.finish(refund, status, why);
  if (!finished && counted === 'IF_FINISHED') return;
  deps.relay.kick();
  if (counted !== 'NEVER') deps.metrics.refunds.inc({ reason: refund.reason, status });
}

/** MANUAL_REQUIRED with what a person must do, its event, an alert; once. */
async function oweByHand({ deps, log, refund, attempt }: RefundAtHand, why: string): Promise<void> {
  if (!(await deps.refunds.requireManual(refund, why))) return;
  deps.relay.kick();
  deps.metrics.refunds.inc({ reason: refund.reason, status: 'MANUAL_REQUIRED' });
  log.error(
    {
      refundNo: refund.refund_no,
      channelOrderNo: attempt.channel_order_no,
      amount: Number(refund.amount),
      currency: refund.currency,
    },
    `refund owed by hand: ${why}`,
  );
}
