import { meaningOfClose, meaningOfNotFound, meaningOfQuery, PROVIDER_CLOCK_SKEW_MS } from './provider-answer';

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

describe('meaningOfQuery', () => {
  const expireAt = new Date('2026-12-01T10:00:00Z');
  const before = new Date(expireAt.getTime() - 60_000);
  const after = new Date(expireAt.getTime() + PROVIDER_CLOCK_SKEW_MS);
  const paid = { status: 'SUCCESS' as const, amount: 1, currency: 'CNY', paidAt: before };

  it('a trade found is what the provider says of it', () => {
    expect(meaningOfQuery(paid, { createConfirmed: false, expireAt }, after)).toBe(paid);
  });

  it('not found: still paying before expiry; after it, FAILED when never confirmed, CLOSED when confirmed', () => {
    expect(meaningOfQuery('NOT_FOUND', { createConfirmed: true, expireAt }, before)).toEqual({
      status: 'PAYING',
    });
    expect(meaningOfQuery('NOT_FOUND', { createConfirmed: false, expireAt }, after)).toMatchObject({
      status: 'FAILED',
    });
    expect(meaningOfQuery('NOT_FOUND', { createConfirmed: true, expireAt }, after)).toEqual({
      status: 'CLOSED',
    });
  });
});

describe('meaningOfClose', () => {
  const expireAt = new Date('2026-12-01T10:00:00Z');
  const facts = { createConfirmed: true, expireAt };
  const before = new Date(expireAt.getTime() - 60_000);
  const after = new Date(expireAt.getTime() + PROVIDER_CLOCK_SKEW_MS);
  const paid = { status: 'SUCCESS' as const, amount: 1, currency: 'CNY', paidAt: before };

  it('closed is CLOSED; already paid is the payment', () => {
    expect(meaningOfClose({ result: 'CLOSED' }, facts, before)).toEqual({
      kind: 'CLOSED',
      outcome: { status: 'CLOSED' },
    });
    expect(meaningOfClose({ result: 'ALREADY_PAID', outcome: paid }, facts, before)).toEqual({
      kind: 'PAID',
      outcome: paid,
    });
  });

  it('not found ends the attempt only once it can no longer be paid', () => {
    expect(meaningOfClose({ result: 'NOT_FOUND' }, facts, before)).toEqual({
      kind: 'OPEN',
      reason: 'NOT_FOUND_YET',
    });
    expect(meaningOfClose({ result: 'NOT_FOUND' }, facts, after)).toEqual({
      kind: 'CLOSED',
      outcome: { status: 'CLOSED' },
    });
  });

  it('a voucher, or a shopper paying now, leaves the attempt open', () => {
    expect(meaningOfClose({ result: 'NOT_SUPPORTED' }, facts, after)).toEqual({
      kind: 'OPEN',
      reason: 'NOT_SUPPORTED',
    });
    expect(meaningOfClose({ result: 'IN_PAYMENT' }, facts, after)).toEqual({
      kind: 'OPEN',
      reason: 'IN_PAYMENT',
    });
  });
});
