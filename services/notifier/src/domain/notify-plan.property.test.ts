/**
 * Properties of the notify plan (issue 30.2): a payment whose order service keeps failing is
 * called exactly QUICK_TRIES + the schedule's length times, waiting each step's delay, then given
 * up (to the dlq); one that answers at any call is never called again.
 */
import fc from 'fast-check';
import { Schedule } from '@payments/platform';
import { callsAtStep, decideAfterFailure, QUICK_TRIES } from './notify-plan';

/** Calls made, waits waited, and whether it gave up, when the order service answers at call `answersAt`. */
function deliver(schedule: Schedule, answersAt: number | null) {
  let calls = 0;
  const waits: number[] = [];
  for (let step = 0; ;) {
    for (let n = 0; n < callsAtStep(step); n += 1) {
      calls += 1;
      if (answersAt !== null && calls === answersAt) return { calls, waits, gaveUp: false };
    }
    const decision = decideAfterFailure(schedule, step);
    if (decision.action === 'GIVE_UP') return { calls, waits, gaveUp: true };
    waits.push(decision.delayMs);
    step = decision.nextStep;
  }
}

const schedules = fc
  .array(fc.integer({ min: 1, max: 60_000 }), { minLength: 1, maxLength: 12 })
  .map(Schedule.of);

describe('the notify plan (property)', () => {
  it('a failing order service is called QUICK_TRIES + every step, each delay waited once, then given up', () => {
    fc.assert(
      fc.property(schedules, (schedule) => {
        const { calls, waits, gaveUp } = deliver(schedule, null);
        return gaveUp && calls === QUICK_TRIES + schedule.length && waits.join() === schedule.steps.join();
      }),
    );
  });

  it('an answer at any call is the last call', () => {
    fc.assert(
      fc.property(schedules, fc.integer({ min: 1, max: 20 }), (schedule, answersAt) => {
        const { calls, gaveUp } = deliver(schedule, answersAt);
        const total = QUICK_TRIES + schedule.length;
        return answersAt <= total ? !gaveUp && calls === answersAt : gaveUp && calls === total;
      }),
    );
  });
});
