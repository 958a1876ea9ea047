/**
 * Property-based tests of the pure decisions (issue 30.2): any sequence of provider answers
 * (callbacks, queries, closes; duplicated, late, in any order) applied through decideSettlement the
 * way settleAttempt applies it keeps the order's invariants. Each property is also run against a
 * known-bad decision, which it must reject.
 */
import fc from 'fast-check';
import { decideSettlement, type PayOrderState, type ProviderOutcome, type Settlement } from './settle';
import { meaningOfClose, meaningOfQuery, type CloseResult, type QueryAnswer } from './provider-answer';
import type { AttemptStatus } from '../contracts';

type Decide = typeof decideSettlement;

interface Attempt {
  channelOrderNo: string;
  status: AttemptStatus;
  refundable: boolean;
}
interface World {
  order: PayOrderState;
  attempts: Attempt[];
  succeededEvents: number;
  /** Attempts named by payment.duplicate_detected / paid_after_close (to be refunded). */
  extra: Set<string>;
}

const AMOUNT = 1000;
const step = fc.record({
  attempt: fc.nat({ max: 2 }),
  outcome: fc.constantFrom<ProviderOutcome['status']>('SUCCESS', 'FAILED', 'CLOSED', 'PAYING'),
  /** A merchant close before this answer (closePayOrder: only an open order). */
  closeFirst: fc.boolean(),
});
const scenario = fc.record({
  refundable: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
  steps: fc.array(step, { maxLength: 12 }),
});

function outcomeOf(status: ProviderOutcome['status']): ProviderOutcome {
  switch (status) {
    case 'SUCCESS':
      return { status, amount: AMOUNT, currency: 'CNY', paidAt: new Date(0) };
    case 'FAILED':
      return { status, reason: 'test' };
    default:
      return { status };
  }
}

/** Applies a settlement as settleAttempt does (its compare-and-set updates, its events). */
function apply(world: World, attempt: Attempt, settlement: Settlement): void {
  const { order } = world;
  if (settlement.attemptTo) attempt.status = settlement.attemptTo;
  if (settlement.payOrder === 'MARK_PAID') {
    if (order.status !== 'UNPAID' && order.status !== 'PAYING') throw new Error('CAS lost: rolled back');
    order.status = 'PAID';
    order.paidChannelOrderNo = attempt.channelOrderNo;
    order.keptRefundable = attempt.refundable;
  } else if (settlement.payOrder === 'KEEP_INSTEAD') {
    world.extra.add(order.paidChannelOrderNo!);
    order.paidChannelOrderNo = attempt.channelOrderNo;
    order.keptRefundable = attempt.refundable;
  } else if (settlement.payOrder === 'RELEASE_IF_IDLE' && order.status === 'PAYING') {
    if (!world.attempts.some((a) => a.status === 'PAYING')) order.status = 'UNPAID';
  }
  for (const type of settlement.events) {
    if (type === 'payment.succeeded') world.succeededEvents += 1;
    if (
      (type === 'payment.duplicate_detected' && settlement.payOrder !== 'KEEP_INSTEAD') ||
      type === 'payment.paid_after_close'
    )
      world.extra.add(attempt.channelOrderNo);
  }
}

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function run(decide: Decide, { refundable, steps }: Scenario): World {
  const world: World = {
    order: {
      status: 'PAYING',
      amount: AMOUNT,
      currency: 'CNY',
      paidChannelOrderNo: null,
      keptRefundable: null,
    },
    attempts: refundable.map((r, n) => ({ channelOrderNo: `co_${n}`, status: 'PAYING', refundable: r })),
    succeededEvents: 0,
    extra: new Set(),
  };
  for (const { attempt: index, outcome, closeFirst } of steps) {
    if (closeFirst && (world.order.status === 'UNPAID' || world.order.status === 'PAYING'))
      world.order.status = 'CLOSED';
    const attempt = world.attempts[index]!;
    const settlement = decide(
      world.order,
      {
        channelOrderNo: attempt.channelOrderNo,
        status: attempt.status,
        amount: AMOUNT,
        currency: 'CNY',
        refundable: attempt.refundable,
      },
      outcomeOf(outcome),
    );
    apply(world, attempt, settlement);
  }
  return world;
}

/** The four invariants, on the database side of the pure decision. */
function invariantsHold(world: World): boolean {
  const { order, attempts, extra } = world;
  const successes = attempts.filter((a) => a.status === 'SUCCESS');
  const kept = order.status === 'PAID' ? order.paidChannelOrderNo : null;
  // 1 and 2: every success is kept (exactly one, on a PAID order) or named to be refunded
  for (const a of successes) if ((a.channelOrderNo === kept) === extra.has(a.channelOrderNo)) return false;
  if (order.status === 'PAID' && !successes.some((a) => a.channelOrderNo === kept)) return false;
  // 3: never the kept payment; 4: one payment.succeeded for a PAID order, none otherwise
  if (kept !== null && extra.has(kept)) return false;
  if (world.succeededEvents !== (order.status === 'PAID' ? 1 : 0)) return false;
  // keep-instead: a refundable payment is never kept over an unrefundable success
  if (kept !== null && order.keptRefundable && successes.some((a) => !a.refundable)) return false;
  return true;
}

describe('decideSettlement under any sequence of answers (property)', () => {
  it('keeps one payment, gives back every other, and tells the order service once', () => {
    fc.assert(
      fc.property(scenario, (s) => invariantsHold(run(decideSettlement, s))),
      { numRuns: 2000 },
    );
  });

  it('rejects a decision that marks an order PAID twice (the check bites)', () => {
    const markPaidAgain: Decide = (order, attempt, outcome) =>
      outcome.status === 'SUCCESS' && attempt.status !== 'SUCCESS' && order.status === 'PAID'
        ? { attemptTo: 'SUCCESS', payOrder: 'NONE', events: ['payment.succeeded'], kind: 'PAID' }
        : decideSettlement(order, attempt, outcome);
    const result = fc.check(
      fc.property(scenario, (s) => invariantsHold(run(markPaidAgain, s))),
      { numRuns: 2000 },
    );
    expect(result.failed).toBe(true);
  });

  it('rejects a decision that never keeps the voucher instead (the check bites)', () => {
    const noKeepInstead: Decide = (order, attempt, outcome) => {
      const settlement = decideSettlement(order, attempt, outcome);
      return settlement.kind === 'KEPT_INSTEAD'
        ? {
            attemptTo: 'SUCCESS',
            payOrder: 'NONE',
            events: ['payment.duplicate_detected'],
            kind: 'DUPLICATE',
          }
        : settlement;
    };
    const result = fc.check(
      fc.property(scenario, (s) => invariantsHold(run(noKeepInstead, s))),
      { numRuns: 2000 },
    );
    expect(result.failed).toBe(true);
  });
});

describe('what an answer means (property)', () => {
  const facts = fc.record({
    createConfirmed: fc.boolean(),
    expireAt: fc.integer({ min: 0, max: 10_000_000 }).map((n) => new Date(n)),
  });
  const now = fc.integer({ min: 0, max: 10_000_000 }).map((n) => new Date(n));

  it('"not found" never ends an attempt before its expiry, for a query or a close', () => {
    fc.assert(
      fc.property(facts, now, (attempt, at) => {
        const query = meaningOfQuery('NOT_FOUND' as QueryAnswer, attempt, at);
        const close = meaningOfClose({ result: 'NOT_FOUND' } as CloseResult, attempt, at);
        if (at.getTime() < attempt.expireAt.getTime())
          return query.status === 'PAYING' && close.kind === 'OPEN';
        return true;
      }),
    );
  });

  it('a trade found is its own outcome, and a paid close is settled as paid', () => {
    fc.assert(
      fc.property(
        facts,
        now,
        fc.constantFrom<ProviderOutcome['status']>('SUCCESS', 'FAILED', 'CLOSED', 'PAYING'),
        (attempt, at, status) => {
          const outcome = outcomeOf(status);
          return (
            meaningOfQuery(outcome, attempt, at) === outcome &&
            meaningOfClose({ result: 'ALREADY_PAID', outcome }, attempt, at).kind === 'PAID'
          );
        },
      ),
    );
  });
});
