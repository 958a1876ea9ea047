/** Bill dates: a provider's day in its own time zone, its bounds, the day before. */

/**
 * The instants a bill date spans in a time zone: [start, end). Computed from the zone's offset at
 * that day's midnight (and checked again at the start, for a day a DST change begins).
 */
export function dayBounds(date: string, timeZone: string): { start: Date; end: Date } {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const startOf = (y: number, m: number, d: number) => {
    const guess = Date.UTC(y, m - 1, d);
    let start = guess - offsetMs(guess, timeZone);
    start = guess - offsetMs(start, timeZone);
    return new Date(start);
  };
  const next = new Date(Date.UTC(year, month - 1, day + 1));
  return {
    start: startOf(year, month, day),
    end: startOf(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()),
  };
}

/** The zone's offset from UTC at an instant, in ms (Asia/Shanghai: +8 h). */
function offsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The bill date (YYYY-MM-DD) an instant falls in, in a time zone. */
export function billDateOf(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** The day before a bill date. */
export function previousDay(date: string): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day - 1)).toISOString().slice(0, 10);
}
