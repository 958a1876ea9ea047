/** Bounded concurrency helpers: every loop here ends by a count or a deadline. */
import { performance } from 'node:perf_hooks';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
export async function forEachBounded(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export interface TimedRun {
  /** Operations that finished inside the measured window (after the warm-up). */
  ops: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
  firstError?: string;
}

/**
 * `workers` loops, each calling `op(worker)` back to back until the deadline. Operations that
 * complete during the first `warmupMs` are not counted; the window is warm-up end to last finish.
 */
export async function runFor(
  workers: number,
  warmupMs: number,
  measureMs: number,
  op: (worker: number) => Promise<void>,
): Promise<TimedRun> {
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const deadline = measureFrom + measureMs;
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let lastEnd = measureFrom;
  const loop = async (worker: number) => {
    while (performance.now() < deadline) {
      const began = performance.now();
      try {
        await op(worker);
        const ended = performance.now();
        if (began >= measureFrom) {
          latenciesMs.push(ended - began);
          lastEnd = Math.max(lastEnd, ended);
        }
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
        await sleep(5);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, worker) => loop(worker)));
  return {
    ops: latenciesMs.length,
    errors,
    seconds: (lastEnd - measureFrom) / 1000,
    latenciesMs,
    firstError,
  };
}

/** Rejects after `ms` with a message naming `what`; never leaves a timer behind. */
export async function withDeadline<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
