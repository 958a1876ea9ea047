import { Schedule } from '@payments/platform';
import { decideAfterClose, decidePoll, VOUCHER_CONFIRM_MARGIN_MS } from './poll-plan';

const schedule = Schedule.of([300, 600, 1000]);
const at = (step: number, afterExpiry = 0, closeTried = afterExpiry > 0) => ({
  seq: 7,
  step,
  closeTried,
  afterExpiry,
});
const paid = { status: 'SUCCESS' as const, amount: 1, currency: 'CNY', paidAt: new Date() };

describe('poll plan', () => {
  it('grows along the schedule and repeats its last step', () => {
    expect([0, 1, 2, 3, 10].map((step) => schedule.delayAt(step))).toEqual([300, 600, 1000, 1000, 1000]);
  });

  it('settles a final answer', () => {
    expect(decidePoll(paid, at(0), schedule, false)).toEqual({ action: 'SETTLE', outcome: paid });
    expect(decidePoll({ status: 'CLOSED' }, at(2), schedule, false)).toEqual({
      action: 'SETTLE',
      outcome: { status: 'CLOSED' },
    });
    expect(decidePoll({ status: 'CLOSED' }, at(2, 0, true), schedule, true)).toEqual({
      action: 'SETTLE',
      outcome: { status: 'CLOSED' },
    });
    expect(decidePoll(paid, at(2), schedule, true)).toEqual({ action: 'SETTLE', outcome: paid });
  });

  it('moves to the next step while paying, owning the next seq', () => {
    expect(decidePoll({ status: 'PAYING' }, at(0), schedule, false)).toEqual({
      action: 'NEXT',
      delayMs: 600,
      position: { seq: 8, step: 1, closeTried: false, afterExpiry: 0 },
    });
    expect(decidePoll({ status: 'PAYING' }, at(5), schedule, false)).toMatchObject({
      action: 'NEXT',
      delayMs: 1000,
    });
  });

  it('repeats the same step after a provider error', () => {
    expect(decidePoll('ERROR', at(1), schedule, false)).toEqual({
      action: 'NEXT',
      delayMs: 600,
      position: { seq: 8, step: 1, closeTried: false, afterExpiry: 0 },
    });
  });

  it('closes at expiry once, then keeps polling a full schedule, then gives up', () => {
    expect(decidePoll({ status: 'PAYING' }, at(3), schedule, true)).toEqual({ action: 'CLOSE_EXPIRED' });
    expect(decidePoll({ status: 'CLOSED' }, at(3), schedule, true)).toEqual({ action: 'CLOSE_EXPIRED' });
    // The further full schedule after the close starts again at its first step: 300, 600, 1000 ms.
    expect(decidePoll({ status: 'PAYING' }, at(3, 0, true), schedule, true)).toMatchObject({
      action: 'NEXT',
      delayMs: 300,
      position: { afterExpiry: 1, step: 0 },
    });
    expect(decidePoll({ status: 'PAYING' }, at(0, 1), schedule, true)).toMatchObject({
      action: 'NEXT',
      delayMs: 600,
      position: { afterExpiry: 2, step: 1 },
    });
    expect(decidePoll('ERROR', at(1, 2), schedule, true)).toMatchObject({
      action: 'NEXT',
      delayMs: 1000,
      position: { afterExpiry: 3, step: 2 },
    });
    expect(decidePoll({ status: 'PAYING' }, at(3, 3), schedule, true)).toMatchObject({ action: 'GIVE_UP' });
  });

  it('a trade not found, inside the clock skew of its expiry, is asked again at the last step, never given up', () => {
    // A schedule shorter than the skew ends before "not found" is final (CI saw it: 300+600+1000 ms).
    const notFoundYet = { closableUnconfirmed: false, notFoundYet: true };
    expect(decidePoll({ status: 'PAYING' }, at(3, 3), schedule, true, Date.now(), notFoundYet)).toEqual({
      action: 'NEXT',
      delayMs: 1000,
      position: { seq: 8, step: 2, closeTried: true, afterExpiry: 4 },
    });
    expect(
      decideAfterClose(
        'CLOSE_EXPIRED',
        'OPEN',
        { status: 'PAYING' },
        at(3, 3),
        schedule,
        true,
        Date.now(),
        true,
      ),
    ).toMatchObject({ action: 'NEXT', delayMs: 1000 });
    // A provider error at that last step is no reason to give up either.
    expect(decidePoll('ERROR', at(2, 3), schedule, true, Date.now(), notFoundYet)).toMatchObject({
      action: 'NEXT',
      delayMs: 1000,
    });
    // Once final, the query's meaning settles it (CLOSED), as any answer.
    expect(decidePoll({ status: 'CLOSED' }, at(3, 4), schedule, true)).toMatchObject({ action: 'SETTLE' });
  });

  it('an issued voucher is polled until its own expiry and a margin, then given up; never before', () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    const payableUntil = new Date(Date.parse('2026-12-06T02:59:59Z')); // 23:59:59 in São Paulo
    const voucher = { status: 'PAYING' as const, payableUntil };
    // A full schedule after the close at the order's expiry, the voucher is still payable: asked
    // again at the last step, and its payable-until travels on to answers that lack it.
    const next = decidePoll(voucher, at(2, 3), schedule, true, now);
    expect(next).toEqual({
      action: 'NEXT',
      delayMs: 1000,
      position: { seq: 8, step: 2, closeTried: true, afterExpiry: 4, payableUntil: payableUntil.getTime() },
    });
    const carried = { ...at(2, 9), payableUntil: payableUntil.getTime() };
    expect(decidePoll('ERROR', carried, schedule, true, now)).toMatchObject({
      action: 'NEXT',
      delayMs: 1000,
    });
    expect(decidePoll({ status: 'PAYING' }, carried, schedule, true, now)).toMatchObject({ action: 'NEXT' });
    // Past the voucher's expiry, within the margin (Stripe confirms about a business day later): still asked.
    const late = payableUntil.getTime() + VOUCHER_CONFIRM_MARGIN_MS - 1;
    expect(decidePoll(voucher, at(2, 9), schedule, true, late)).toMatchObject({ action: 'NEXT' });
    // After the margin: a person looks.
    const after = payableUntil.getTime() + VOUCHER_CONFIRM_MARGIN_MS;
    expect(decidePoll(voucher, at(2, 9), schedule, true, after)).toMatchObject({ action: 'GIVE_UP' });
    expect(decidePoll('ERROR', carried, schedule, true, after)).toMatchObject({ action: 'GIVE_UP' });
    // A trade without a payable-until is given up after one schedule, as before.
    expect(decidePoll({ status: 'PAYING' }, at(2, 3), schedule, true, now)).toMatchObject({
      action: 'GIVE_UP',
    });
  });

  it('a provider that keeps failing is asked again at the same step, forever, never given up', () => {
    expect(decidePoll('ERROR', at(3), schedule, true)).toEqual({
      action: 'NEXT',
      delayMs: 1000,
      position: { seq: 8, step: 3, closeTried: false, afterExpiry: 0 },
    });
  });

  it('closes a trade found that nobody was given, before its expiry only, and then polls on', () => {
    const trade = { closableUnconfirmed: true };
    expect(decidePoll({ status: 'PAYING' }, at(1), schedule, false, Date.now(), trade)).toEqual({
      action: 'CLOSE_UNCONFIRMED',
    });
    expect(decidePoll('ERROR', at(1), schedule, false, Date.now(), trade)).toMatchObject({ action: 'NEXT' });
    expect(decidePoll({ status: 'PAYING' }, at(1), schedule, true, Date.now(), trade)).toEqual({
      action: 'CLOSE_EXPIRED',
    });
    expect(
      decideAfterClose('CLOSE_UNCONFIRMED', 'FAILED', { status: 'PAYING' }, at(1), schedule, false),
    ).toEqual({
      action: 'NEXT',
      delayMs: 1000,
      position: { seq: 8, step: 2, closeTried: false, afterExpiry: 0 },
    });
  });

  it('after a close at expiry: answered, the close counts as tried; failed, the same step again', () => {
    expect(
      decideAfterClose('CLOSE_EXPIRED', 'OPEN', { status: 'PAYING' }, at(3), schedule, true),
    ).toMatchObject({
      action: 'NEXT',
      delayMs: 300,
      position: { closeTried: true, afterExpiry: 1, step: 0 },
    });
    expect(decideAfterClose('CLOSE_EXPIRED', 'FAILED', { status: 'PAYING' }, at(3), schedule, true)).toEqual({
      action: 'NEXT',
      delayMs: 1000,
      position: { seq: 8, step: 3, closeTried: false, afterExpiry: 0 },
    });
  });
});
