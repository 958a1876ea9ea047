/**
 * The settlement property against the real MariaDB (issue 30.2): generated sequences of provider
 * answers and merchant closes, duplicated, in any order, some of them at the same moment, applied
 * through the one settlement path (settleAttempt, closePayOrder); after each sequence the money
 * invariants hold on what the database holds and the events it wrote.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { type DataSource } from '@payments/platform';
import {
  closePayOrder,
  openDataSource,
  settleAttempt,
  type EventEnvelope,
  type ProviderOutcome,
} from '@payments/core';
import { createTestEnv, type TestEnv } from '@payments/testkit';

const AMOUNT = 1000;
const step = fc.record({
  attempt: fc.nat({ max: 2 }),
  outcome: fc.constantFrom<ProviderOutcome['status']>('SUCCESS', 'SUCCESS', 'FAILED', 'CLOSED', 'PAYING'),
  /** A merchant close instead of an answer. */
  close: fc.boolean().map((b) => b && Math.random() < 0.3),
  /** At the same moment as the step before (two settlements racing for the order's lock). */
  together: fc.boolean(),
});
type StepOf = typeof step extends fc.Arbitrary<infer T> ? T : never;
const scenario = fc.record({
  refundable: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
  steps: fc.array(step, { minLength: 1, maxLength: 8 }),
});

const outcomeOf = (status: ProviderOutcome['status']): ProviderOutcome =>
  status === 'SUCCESS'
    ? { status, amount: AMOUNT, currency: 'CNY', paidAt: new Date(0) }
    : status === 'FAILED'
      ? { status, reason: 'property' }
      : { status };

describe('settlement under any sequence of answers, in MariaDB (property)', () => {
  let env: TestEnv;
  let dataSource: DataSource;

  beforeAll(async () => {
    env = await createTestEnv();
    dataSource = await openDataSource(env.config.DATABASE_URL);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await env?.cleanup();
  });

  async function order(refundable: readonly boolean[]) {
    const id = randomBytes(6).toString('hex');
    const expire = new Date(Date.now() + 3600_000);
    const inserted = await dataSource.query(
      `INSERT INTO pay_order (pay_order_no, merchant_order_no, amount, currency, subject, status, expire_at)
       VALUES (?, ?, ?, 'CNY', 'property', 'PAYING', ?)`,
      [`po_${id}`, `prop-${id}`, AMOUNT, expire],
    );
    const payOrderId = Number(inserted.insertId);
    const attempts = refundable.map((_, n) => `co_${id}${n}`);
    for (const [n, channelOrderNo] of attempts.entries())
      await dataSource.query(
        `INSERT INTO channel_order (channel_order_no, pay_order_id, merchant_order_no, channel, amount, currency,
           status, inflight_key, expire_at, refundable)
         VALUES (?, ?, ?, ?, ?, 'CNY', 'PAYING', ?, ?, ?)`,
        [
          channelOrderNo,
          payOrderId,
          `prop-${id}`,
          `ch${n}`,
          AMOUNT,
          `${payOrderId}:ch${n}`,
          expire,
          refundable[n] ? 1 : 0,
        ],
      );
    return { payOrderId, attempts };
  }

  /** The four invariants (and keeping the payment that cannot be refunded), on the database's state. */
  async function violations(
    payOrderId: number,
    events: EventEnvelope[],
    refundable: readonly boolean[],
    attempts: string[],
  ) {
    const [payOrder] = await dataSource.query(
      'SELECT status, paid_channel_order_no FROM pay_order WHERE id = ?',
      [payOrderId],
    );
    const rows = (await dataSource.query(
      'SELECT channel_order_no, status FROM channel_order WHERE pay_order_id = ?',
      [payOrderId],
    )) as { channel_order_no: string; status: string }[];
    const kept = payOrder.status === 'PAID' ? payOrder.paid_channel_order_no : null;
    const extra = new Set(
      events
        .filter(
          (event) => event.type === 'payment.duplicate_detected' || event.type === 'payment.paid_after_close',
        )
        .map((event) => (event.data as { channelOrderNo: string }).channelOrderNo),
    );
    const problems: string[] = [];
    for (const row of rows.filter((r) => r.status === 'SUCCESS'))
      if ((row.channel_order_no === kept) === extra.has(row.channel_order_no))
        problems.push(`${row.channel_order_no}: neither kept nor refunded, or both`);
    if (kept && !rows.some((r) => r.channel_order_no === kept && r.status === 'SUCCESS'))
      problems.push('kept is no success');
    const told = events.filter((event) => event.type === 'payment.succeeded').length;
    if (told !== (kept ? 1 : 0)) problems.push(`payment.succeeded ${told} times`);
    const keptRefundable = kept ? refundable[attempts.indexOf(kept)] : false;
    if (
      keptRefundable &&
      rows.some((r) => r.status === 'SUCCESS' && !refundable[attempts.indexOf(r.channel_order_no)])
    )
      problems.push('a refundable payment kept over one that cannot be refunded');
    return problems;
  }

  it('one payment kept, every other given back, the order service told once, the unrefundable one kept', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ refundable, steps }) => {
        const { payOrderId, attempts } = await order(refundable);
        const events: EventEnvelope[] = [];
        const act = async (s: StepOf) => {
          if (s.close) {
            await closePayOrder(dataSource, payOrderId, 'CANCELLED');
            return;
          }
          const result = await settleAttempt(dataSource, attempts[s.attempt]!, outcomeOf(s.outcome));
          events.push(...(result?.events ?? []));
        };
        // Steps marked `together` run at once with the one before; groups run one after the other.
        const groups: (typeof steps)[] = [];
        for (const s of steps)
          if (s.together && groups.length > 0) groups.at(-1)!.push(s);
          else groups.push([s]);
        for (const group of groups) await Promise.all(group.map(act));
        const problems = await violations(payOrderId, events, refundable, attempts);
        if (problems.length > 0) throw new Error(problems.join('; '));
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
