import { clockIn, dueBillDate } from './reconciliation';

describe('the daily reconciliation is due at RECON_AT in the provider zone, for the previous day', () => {
  it('reads the clock of the zone', () => {
    expect(clockIn(new Date('2026-12-02T19:45:00Z'), 'Asia/Shanghai')).toBe('03:45');
    expect(clockIn(new Date('2026-12-02T19:45:00Z'), 'UTC')).toBe('19:45');
  });
  it('before RECON_AT nothing is due; from it, the previous bill date of that zone', () => {
    // 03:29 in Shanghai on the 3rd: not yet; 03:30: the 2nd.
    expect(dueBillDate(new Date('2026-12-02T19:29:00Z'), 'Asia/Shanghai', '03:30')).toBeUndefined();
    expect(dueBillDate(new Date('2026-12-02T19:30:00Z'), 'Asia/Shanghai', '03:30')).toBe('2026-12-02');
    // The same instant in UTC is the evening of the 2nd: the 1st is due there.
    expect(dueBillDate(new Date('2026-12-02T19:30:00Z'), 'UTC', '03:30')).toBe('2026-12-01');
    expect(dueBillDate(new Date('2026-12-03T00:10:00Z'), 'UTC', '03:30')).toBeUndefined();
  });
});
