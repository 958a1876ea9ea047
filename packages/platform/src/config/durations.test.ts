import { formatDuration, parseDuration, parseSchedule } from './durations';

describe('durations', () => {
  it('parses each unit', () => {
    expect(parseDuration('300ms')).toBe(300);
    expect(parseDuration('3s')).toBe(3000);
    expect(parseDuration('3m')).toBe(180_000);
    expect(parseDuration('1h')).toBe(3_600_000);
  });

  it('rejects what is not a duration', () => {
    for (const bad of ['', '3', '3 sec', '-1s', '1.5s', '0s', 's']) {
      expect(() => parseDuration(bad)).toThrow(/duration|longer than zero/);
    }
  });

  it('parses schedules and rejects empty steps', () => {
    expect(parseSchedule('3s,10s,30s,3m')).toEqual([3000, 10_000, 30_000, 180_000]);
    expect(parseSchedule('300ms, 600ms,1s')).toEqual([300, 600, 1000]);
    expect(() => parseSchedule('3s,,10s')).toThrow(/schedule/);
  });

  it('formats tier names that parse back to the same duration', () => {
    for (const ms of [300, 1000, 1500, 90_000, 180_000, 3_600_000, 54_000_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
    expect(formatDuration(180_000)).toBe('3m');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});
