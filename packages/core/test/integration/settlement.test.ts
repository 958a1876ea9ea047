import { randomBytes } from 'node:crypto';
import { type DataSource } from '@payments/platform';
import { openDataSource, settleAttempt } from '@payments/core';
import { createTestEnv, type TestEnv } from '@payments/testkit';

/**
 * The one settlement path against the real MariaDB, where its reads and locks interleave with
 * another writer's (CONTRACT 9, keeping the payment that cannot be refunded).
 */
describe('settlement (real MariaDB)', () => {
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

  /** A pay order PAYING with a card attempt and a voucher attempt (which cannot be refunded), both in flight. */
  async function orderWithCardAndVoucher() {
    const id = randomBytes(6).toString('hex');
    const no = `keep-${id}`;
    const expire = new Date(Date.now() + 3600_000);
    const inserted = await dataSource.query(
      `INSERT INTO pay_order (pay_order_no, merchant_order_no, amount, currency, subject, status, expire_at)
       VALUES (?, ?, 15000, 'BRL', 'Pedal', 'PAYING', ?)`,
      [`po_${id}`, no, expire],
    );
    const payOrderId = Number(inserted.insertId);
    const attempt = (suffix: string, channel: string, refundable: number) =>
      dataSource.query(
        `INSERT INTO channel_order (channel_order_no, pay_order_id, merchant_order_no, channel, amount, currency,
           status, inflight_key, expire_at, refundable)
         VALUES (?, ?, ?, ?, 15000, 'BRL', 'PAYING', ?, ?, ?)`,
        [`co_${id}${suffix}`, payOrderId, no, channel, `${payOrderId}:${channel}`, expire, refundable],
      );
    await attempt('c', 'stripe-card', 1);
    await attempt('v', 'stripe-boleto', 0);
    return { payOrderId, card: `co_${id}c`, voucher: `co_${id}v` };
  }
  const paid = { status: 'SUCCESS' as const, amount: 15000, currency: 'BRL', paidAt: new Date() };

  it('a voucher paid while the card’s settlement holds the order is kept instead: it sees the card as kept', async () => {
    const { payOrderId, card, voucher } = await orderWithCardAndVoucher();
    // The card's settlement, by hand, in a transaction of its own that holds the order's lock.
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query('SELECT * FROM pay_order WHERE id = ? FOR UPDATE', [payOrderId]);
    // The voucher's settlement starts meanwhile and waits for the order's lock.
    const voucherSettled = settleAttempt(dataSource, voucher, paid);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await runner.query(
      "UPDATE channel_order SET status = 'SUCCESS', inflight_key = NULL, settled_at = NOW(3) WHERE channel_order_no = ?",
      [card],
    );
    await runner.query(
      "UPDATE pay_order SET status = 'PAID', paid_channel_order_no = ?, paid_at = NOW(3) WHERE id = ?",
      [card, payOrderId],
    );
    await runner.commitTransaction();
    await runner.release();
    const result = await voucherSettled;
    expect(result?.settlement.kind).toBe('KEPT_INSTEAD');
    expect(
      result?.events.map((event) => {
        const data = event.data as { channelOrderNo?: string; to?: string };
        return [event.type, data.channelOrderNo ?? data.to];
      }),
    ).toEqual([
      ['payment.kept_changed', voucher],
      ['payment.duplicate_detected', card],
    ]);
    const [order] = await dataSource.query(
      'SELECT status, paid_channel_order_no FROM pay_order WHERE id = ?',
      [payOrderId],
    );
    expect(order).toEqual({ status: 'PAID', paid_channel_order_no: voucher });
  });

  it('one after the other, either order: the voucher is kept and the card is the extra charge', async () => {
    for (const first of ['card', 'voucher'] as const) {
      const order = await orderWithCardAndVoucher();
      const [a, b] = first === 'card' ? [order.card, order.voucher] : [order.voucher, order.card];
      const results = [await settleAttempt(dataSource, a, paid), await settleAttempt(dataSource, b, paid)];
      expect(results.map((result) => result?.settlement.kind)).toEqual(
        first === 'card' ? ['PAID', 'KEPT_INSTEAD'] : ['PAID', 'DUPLICATE'],
      );
      const [row] = await dataSource.query('SELECT paid_channel_order_no FROM pay_order WHERE id = ?', [
        order.payOrderId,
      ]);
      expect(row.paid_channel_order_no).toBe(order.voucher);
    }
  });
});
