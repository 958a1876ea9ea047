import type { Schedule } from '@payments/platform';
import type { ProviderOutcome } from '@payments/core';

/** Where one attempt's polling stands; travels in the message headers. */
export interface PollPosition {
  /** The attempt's poll_count this message owns; a message whose seq is stale is dropped. */
  seq: number;
  /** The step of POLL_SCHEDULE whose delay brought this message. */
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
  /** A trade found, still payable, that no shopper was given (its create never confirmed): closed now. */
  | { action: 'CLOSE_UNCONFIRMED' }
  | { action: 'CLOSE_EXPIRED' }
  | { action: 'NEXT'; delayMs: number; position: PollPosition }
  | { action: 'GIVE_UP'; reason: string };

/** What the query found beyond its answer, for the close of an unconfirmed trade. */
export interface PolledTrade {
  /** Found at the provider, no pay URL handed out, and its channel can close it. */
  closableUnconfirmed: boolean;
  /**
   * The provider knows no such trade (or failed to answer), and "not found" is not final yet
   * (`meaningOfNotFound`: within the provider's clock skew of the expiry): not given up. The chain
   * still ends: once past the skew, `meaningOfQuery` reads "not found" as CLOSED or FAILED.
   */
  notFoundYet?: boolean;
}

/**
 * DESIGN rule 4, pure: what to do with one query's answer. A final answer settles; a trade found
 * that nobody was given is closed before its expiry; still paying past expiry closes it at the
 * provider; otherwise the next step (a provider error repeats the
 * same step). An attempt still not final a full schedule after its expiry goes to a person,
 * unless the provider said it stays payable longer (an issued voucher, until its own expiry and
 * `VOUCHER_CONFIRM_MARGIN_MS`) or its "not found" is not final yet (a short schedule can end inside
 * the provider's clock skew): that one is asked again at the schedule's last step meanwhile.
 */
export function decidePoll(
  answer: ProviderOutcome | 'ERROR',
  position: PollPosition,
  schedule: Schedule,
  expired: boolean,
  now: number = Date.now(),
  trade: PolledTrade = { closableUnconfirmed: false },
): PollDecision {
  if (trade.closableUnconfirmed && !expired && answer !== 'ERROR' && answer.status === 'PAYING')
    return { action: 'CLOSE_UNCONFIRMED' };
  // Past expiry, anything but a success is closed at the provider first (an EXPIRED trade too).
  if (expired && !position.closeTried && answer !== 'ERROR' && answer.status !== 'SUCCESS')
    return { action: 'CLOSE_EXPIRED' };
  if (answer !== 'ERROR' && answer.status !== 'PAYING') return { action: 'SETTLE', outcome: answer };
  const payableUntil =
    answer !== 'ERROR' && answer.payableUntil ? answer.payableUntil.getTime() : position.payableUntil;
  const stillPayable = payableUntil !== undefined && now < payableUntil + VOUCHER_CONFIRM_MARGIN_MS;
  const afterExpiry = position.closeTried ? position.afterExpiry + 1 : 0;
  if (afterExpiry > schedule.length && !stillPayable && !trade.notFoundYet) {
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
    delayMs: schedule.delayAt(step),
    position: {
      seq: position.seq + 1,
      step,
      closeTried: position.closeTried,
      afterExpiry,
      ...(payableUntil !== undefined ? { payableUntil } : {}),
    },
  };
}

/**
 * After a close that did not end the attempt: the same query's answer decides again, never a second
 * close. An unconfirmed trade left open goes on polling; at expiry, a close the provider answered
 * (a voucher, not found yet, the shopper paying) counts as tried and the answer stands, while a
 * close that failed repeats the same step, to be tried again.
 */
export function decideAfterClose(
  close: 'CLOSE_UNCONFIRMED' | 'CLOSE_EXPIRED',
  left: 'OPEN' | 'FAILED',
  answer: ProviderOutcome | 'ERROR',
  position: PollPosition,
  schedule: Schedule,
  expired: boolean,
  now: number = Date.now(),
  notFoundYet = false,
): PollDecision {
  // Never a second close: the trade is no longer closable for this decision.
  const trade: PolledTrade = { closableUnconfirmed: false, notFoundYet };
  if (close === 'CLOSE_UNCONFIRMED') return decidePoll(answer, position, schedule, expired, now, trade);
  const closeTried = left === 'OPEN';
  return decidePoll(
    closeTried ? answer : 'ERROR',
    { ...position, closeTried },
    schedule,
    expired,
    now,
    trade,
  );
}
