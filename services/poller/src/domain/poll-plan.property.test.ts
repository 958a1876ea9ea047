/**
 * Properties of the poll plan (issue 30.2) over any sequence of answers: a chain never settles
 * what the provider did not say, closes at expiry once before anything else, is never given up
 * before expiry or while a voucher is payable, and always ends (settles or gives up) once the
 * provider answers and the attempt is past its expiry and payable-until.
 */
import fc from 'fast-check';
import { Schedule } from '@payments/platform';
import type { ProviderOutcome } from '@payments/core';
import { decideAfterClose, decidePoll, VOUCHER_CONFIRM_MARGIN_MS, type PollPosition } from './poll-plan';

const schedule = Schedule.of([300, 600, 1000]);
const answer: fc.Arbitrary<ProviderOutcome | 'ERROR'> = fc.oneof(
  fc.constant('ERROR' as const),
  fc.constant({ status: 'PAYING' as const }),
  fc.constant({ status: 'CLOSED' as const }),
  fc.constant({ status: 'FAILED' as const, reason: 'x' }),
  fc.constant({ status: 'SUCCESS' as const, amount: 1, currency: 'CNY', paidAt: new Date(0) }),
);
const start: PollPosition = { seq: 0, step: 0, closeTried: false, afterExpiry: 0 };

/** Walks the plan: each poll answered by the next answer; `expiresAfter` polls in, the attempt expires. */
function walk(
  answers: (ProviderOutcome | 'ERROR')[],
  expiresAfter: number,
  payableUntil?: number,
  decide: typeof decidePoll = decidePoll,
) {
  let position = start;
  const actions: string[] = [];
  let now = 0;
  for (const [index, raw] of answers.entries()) {
    const expired = index >= expiresAfter;
    const a =
      raw !== 'ERROR' && raw.status === 'PAYING' && payableUntil
        ? { ...raw, payableUntil: new Date(payableUntil) }
        : raw;
    let decision = decide(a, position, schedule, expired, now);
    if (decision.action === 'CLOSE_EXPIRED') {
      actions.push('CLOSE_EXPIRED');
      decision = decideAfterClose('CLOSE_EXPIRED', 'OPEN', a, position, schedule, expired, now);
    }
    actions.push(decision.action);
    if (decision.action !== 'NEXT') return { actions, decision, answered: a };
    position = decision.position;
    now += decision.delayMs;
  }
  return { actions, decision: undefined, answered: undefined };
}

describe('the poll plan under any sequence of answers (property)', () => {
  it('settles only a final answer, exactly the one the provider gave', () => {
    fc.assert(
      fc.property(fc.array(answer, { maxLength: 30 }), fc.nat({ max: 30 }), (answers, expiresAfter) => {
        const { decision, answered } = walk(answers, expiresAfter);
        if (decision?.action !== 'SETTLE') return true;
        return (
          answered !== 'ERROR' &&
          answered !== undefined &&
          answered.status !== 'PAYING' &&
          decision.outcome === answered
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('closes at expiry at most once, and never gives up before expiry', () => {
    fc.assert(
      fc.property(fc.array(answer, { maxLength: 30 }), fc.nat({ max: 30 }), (answers, expiresAfter) => {
        const { actions } = walk(answers, expiresAfter);
        const closes = actions.filter((action) => action === 'CLOSE_EXPIRED').length;
        const gaveUpAt = actions.indexOf('GIVE_UP');
        return closes <= 1 && (gaveUpAt < 0 || actions.length - 1 >= expiresAfter);
      }),
      { numRuns: 3000 },
    );
  });

  it('ends once expired and answered PAYING long enough; never gives up a voucher still payable', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.boolean(), (expiresAfter, voucher) => {
        const payableUntil = voucher ? 10_000_000 : undefined;
        const { decision, actions } = walk(Array(400).fill({ status: 'PAYING' }), expiresAfter, payableUntil);
        if (!voucher)
          return decision?.action === 'GIVE_UP' && actions.length <= expiresAfter + 2 * schedule.length + 4;
        // Polled at the last step (1 s) until payable-until plus the margin: never within 400 polls.
        return decision === undefined && VOUCHER_CONFIRM_MARGIN_MS > 400 * 1000;
      }),
    );
  });

  it('the check bites: a plan that settles "still paying" is caught', () => {
    const eager: typeof decidePoll = (a, ...rest) =>
      a !== 'ERROR' && a.status === 'PAYING' ? { action: 'SETTLE', outcome: a } : decidePoll(a, ...rest);
    const result = fc.check(
      fc.property(fc.array(answer, { maxLength: 30 }), fc.nat({ max: 30 }), (answers, expiresAfter) => {
        const { decision, answered } = walk(answers, expiresAfter, undefined, eager);
        if (decision?.action !== 'SETTLE') return true;
        return answered !== 'ERROR' && answered !== undefined && answered.status !== 'PAYING';
      }),
      { numRuns: 3000 },
    );
    expect(result.failed).toBe(true);
  });
});
