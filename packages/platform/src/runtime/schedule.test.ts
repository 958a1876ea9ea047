import { Schedule } from './schedule';

describe('Schedule', () => {
  const schedule = Schedule.of([300, 600, 1000]);

  it('grows along its steps and repeats its last one', () => {
    expect([0, 1, 2, 3, 10].map((step) => schedule.delayAt(step))).toEqual([300, 600, 1000, 1000, 1000]);
    expect(schedule.length).toBe(3);
    expect(schedule.longest).toBe(1000);
  });

  it('is spent once every step was waited', () => {
    expect([0, 2, 3, 4].map((step) => schedule.spent(step))).toEqual([false, false, true, true]);
  });

  it('has at least one step', () => {
    expect(() => Schedule.of([])).toThrow('at least one step');
  });
});
