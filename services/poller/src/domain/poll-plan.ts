import type { ProviderOutcome } from '@payments/common';

/** Where one attempt's polling stands; travels in the message headers. */
export interface PollPosition {
  /** The attempt's poll_count this message owns; a message whose seq is stale is dropped. */
  seq: number;
  /** Index into POLL_SCHEDULE of the delay that brought this message. */
  step: number;
  /** Whether the close at expiry was already tried. */
  closeTried: boolean;
  /** Queries made after that close. */
  afterExpiry: number;
  /** Epoch ms until which the provider said the shopper may still pay (an issued voucher). */
  payableUntil?: number;
}

/**
 * How long after a voucher's own expiry it is still polled: Stripe confirms a Boleto payment about
 * one business day after it is made, so one paid on its last day (a Friday, before a holiday) is
 * confirmed up to four days later. Until then a voucher is never given up for review.
 */
export const VOUCHER_CONFIRM_MARGIN_MS = 4 * 24 * 3600_000;

export type PollDecision =
  | { action: 'SETTLE'; outcome: ProviderOutcome }
  | { action: 'CLOSE_EXPIRED' }
  | { action: 'NEXT'; delayMs: number; position: PollPosition }
  | { action: 'GIVE_UP'; reason: string };

/** The delay after `step` polls: the schedule grows, and its last step repeats. */
export function delayForStep(schedule: readonly number[], step: number): number {
  return schedule[Math.min(step, schedule.length - 1)]!;
}

/**
 * DESIGN rule 4, pure: what to do with one query's answer. A final answer settles; still paying
 * past expiry closes it at the provider; otherwise the next step (a provider error repeats the
 * same step). An attempt still not final a full schedule after its expiry goes to a person,
 * unless the provider said it stays payable longer (an issued voucher, until its own expiry and
 * `VOUCHER_CONFIRM_MARGIN_MS`): that one is asked again at the schedule's last step meanwhile.
 */
export function decidePoll(
  answer: ProviderOutcome | 'ERROR',
  position: PollPosition,
  schedule: readonly number[],
  expired: boolean,
  now: number = Date.now(),
): PollDecision {
  // Past expiry, anything but a success is closed at the provider first (an EXPIRED trade too).
  if (expired && !position.closeTried && answer !== 'ERROR' && answer.status !== 'SUCCESS')
    return { action: 'CLOSE_EXPIRED' };
  if (answer !== 'ERROR' && answer.status !== 'PAYING') return { action: 'SETTLE', outcome: answer };
  const payableUntil =
    answer !== 'ERROR' && answer.payableUntil ? answer.payableUntil.getTime() : position.payableUntil;
  const stillPayable = payableUntil !== undefined && now < payableUntil + VOUCHER_CONFIRM_MARGIN_MS;
  const afterExpiry = position.closeTried ? position.afterExpiry + 1 : 0;
  if (afterExpiry > schedule.length && !stillPayable) {
    return {
      action: 'GIVE_UP',
      reason: `still not final ${schedule.length} polls after the close at expiry (last answer ${answer === 'ERROR' ? 'ERROR' : answer.status})${
        payableUntil !== undefined
          ? `, and past its payable-until ${new Date(payableUntil).toISOString()} with margin`
          : ''
      }`,
    };
  }
  // After the close, the further full schedule walks the schedule again from its first step.
  const step = position.closeTried
    ? Math.min(afterExpiry - 1, schedule.length - 1)
    : answer === 'ERROR'
      ? position.step
      : position.step + 1;
  return {
    action: 'NEXT',
    delayMs: delayForStep(schedule, step),
    position: {
      seq: position.seq + 1,
      step,
      closeTried: position.closeTried,
      afterExpiry,
      ...(payableUntil !== undefined ? { payableUntil } : {}),
    },
  };
}
