import { Schedule } from '@payments/platform';
import { callsAtStep, decideAfterFailure, QUICK_TRIES } from './notify-plan';

describe('notify plan', () => {
  const schedule = Schedule.of([300, 600, 1000]);

  it('retries along the schedule and gives up when its last step has failed', () => {
    expect(decideAfterFailure(schedule, 0)).toEqual({ action: 'RETRY_LATER', delayMs: 300, nextStep: 1 });
    expect(decideAfterFailure(schedule, 1)).toEqual({ action: 'RETRY_LATER', delayMs: 600, nextStep: 2 });
    expect(decideAfterFailure(schedule, 2)).toEqual({ action: 'RETRY_LATER', delayMs: 1000, nextStep: 3 });
    expect(decideAfterFailure(schedule, 3)).toEqual({ action: 'GIVE_UP' });
  });

  it('makes the quick tries only on the first arrival', () => {
    expect(callsAtStep(0)).toBe(QUICK_TRIES);
    expect(QUICK_TRIES).toBe(3);
    expect(callsAtStep(1)).toBe(1);
    expect(callsAtStep(5)).toBe(1);
  });
});
