const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h)$/;

/** Parses `300ms`, `3s`, `3m`, `1h` into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration (use <n>ms, <n>s, <n>m or <n>h)`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms <= 0) throw new Error(`"${text}" must be longer than zero`);
  return ms;
}

/** Parses a comma-separated schedule such as `3s,10s,30s,3m`. */
export function parseSchedule(text: string): number[] {
  const steps = text.split(',').map((step) => step.trim());
  if (steps.length === 0 || steps.some((step) => step === '')) {
    throw new Error(`"${text}" is not a schedule (comma-separated durations)`);
  }
  return steps.map(parseDuration);
}

/** The shortest exact name of a duration, used to name delay tiers: 3000 → `3s`, 90000 → `90s`. */
export function formatDuration(ms: number): string {
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}
