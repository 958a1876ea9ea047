import type { Schedule } from '@payments/platform';

/** Synchronous tries on a message's first arrival, before the queued retries take over. */
export const QUICK_TRIES = 3;

export type NotifyDecision =
  { action: 'RETRY_LATER'; delayMs: number; nextStep: number } | { action: 'GIVE_UP' };

/**
 * DESIGN rule 5, pure: after the tries of `step` failed (step 0 is the first arrival with its
 * quick tries, step k the k-th queued retry), wait for the next step, or give up when the last
 * step of NOTIFY_SCHEDULE has failed.
 */
export function decideAfterFailure(schedule: Schedule, step: number): NotifyDecision {
  if (schedule.spent(step)) return { action: 'GIVE_UP' };
  return { action: 'RETRY_LATER', delayMs: schedule.delayAt(step), nextStep: step + 1 };
}

/** How many calls to make at `step`: quick tries first, one call per queued retry. */
export function callsAtStep(step: number): number {
  return step === 0 ? QUICK_TRIES : 1;
}
