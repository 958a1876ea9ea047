import type { Measure } from '../measure';
import type { BenchStack } from '../stack';

/** What each row of the bench runs with: the stack, how phases are measured, and the JSON it fills. */
export interface RowContext {
  stack: BenchStack;
  m: Measure;
  result: Record<string, unknown>;
}
