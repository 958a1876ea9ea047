/** Small statistics helpers for the benchmark: nearest-rank percentiles, rounded for the report. */

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  samples: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** p50/p90/p99/max of latencies in milliseconds (null where there are no samples). */
export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const pick = (p: number) => (sorted.length === 0 ? null : round(percentile(sorted, p), 2));
  return {
    samples: sorted.length,
    p50Ms: pick(50),
    p90Ms: pick(90),
    p99Ms: pick(99),
    maxMs: sorted.length === 0 ? null : round(sorted[sorted.length - 1]!, 2),
  };
}

export function median(values: readonly number[]): number | null {
  return values.length === 0
    ? null
    : percentile(
        [...values].sort((a, b) => a - b),
        50,
      );
}

/** Counts occurrences of each key, e.g. HTTP statuses or error codes. */
export class Tally {
  readonly counts: Record<string, number> = {};
  add(key: string | number): void {
    const name = String(key);
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }
  get(key: string | number): number {
    return this.counts[String(key)] ?? 0;
  }
}
