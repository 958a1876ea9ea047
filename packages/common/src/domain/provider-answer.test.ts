import { meaningOfNotFound, PROVIDER_CLOCK_SKEW_MS } from './provider-answer';

describe('meaningOfNotFound', () => {
  const expireAt = new Date('2026-12-01T10:00:00Z');
  const at = (offsetMs: number) => new Date(expireAt.getTime() + offsetMs);

  it('is never final before the attempt expired: a create may still reach the provider', () => {
    for (const createConfirmed of [false, true]) {
      expect(meaningOfNotFound({ createConfirmed, expireAt }, at(-60_000))).toBe('NOT_YET');
      expect(meaningOfNotFound({ createConfirmed, expireAt }, at(0))).toBe('NOT_YET');
    }
  });

  it('is final once the expiry and the clock allowance have passed: no trade made now can be paid', () => {
    expect(meaningOfNotFound({ createConfirmed: false, expireAt }, at(PROVIDER_CLOCK_SKEW_MS - 1))).toBe(
      'NOT_YET',
    );
    expect(meaningOfNotFound({ createConfirmed: false, expireAt }, at(PROVIDER_CLOCK_SKEW_MS))).toBe(
      'NEVER_PAYABLE',
    );
  });
});
