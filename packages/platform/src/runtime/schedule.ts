/**
 * A schedule of delays (POLL_SCHEDULE, REFUND_POLL_SCHEDULE, NOTIFY_SCHEDULE, RETRY_SCHEDULE): the
 * one rule for picking a step. Step k waits `delayAt(k)` (0-based); past the end, the last step
 * repeats. A caller that stops at the end (the notifier gives up) asks `spent(step)`.
 */
export class Schedule {
  private constructor(readonly steps: readonly number[]) {}

  static of(steps: readonly number[]): Schedule {
    if (steps.length === 0) throw new Error('a schedule needs at least one step');
    return new Schedule([...steps]);
  }

  get length(): number {
    return this.steps.length;
  }

  /** The delay of step `step`: the schedule grows, and its last step repeats. */
  delayAt(step: number): number {
    return this.steps[Math.min(Math.max(step, 0), this.steps.length - 1)]!;
  }

  /** True once every step has been waited: `step` is past the last one. */
  spent(step: number): boolean {
    return step >= this.steps.length;
  }

  /** The longest wait of the schedule. */
  get longest(): number {
    return Math.max(...this.steps);
  }
}
