/** What the cashier shows of its pay orders, read for many orders at once (issue 27.4). */
import { sqlQuery, type DataSource } from '@payments/platform';
import { type AttemptRow, type PayOrderRow } from '@payments/core';

/** A pay order as the cashier shows it, with its attempts (oldest first). */
export interface CashierOrderView {
  order: PayOrderRow & { subject: string };
  attempts: Pick<AttemptRow, 'pay_order_id' | 'channel' | 'status' | 'pay_url' | 'pay_action_type'>[];
}

/**
 * These pay orders and their attempts in two queries however many: only the columns the cashier
 * shows, so a poll's bookkeeping on an attempt does not look like a change to its viewers.
 */
export async function cashierViewsOf(
  dataSource: DataSource,
  payOrderIds: readonly number[],
): Promise<Map<number, CashierOrderView>> {
  const views = new Map<number, CashierOrderView>();
  if (payOrderIds.length === 0) return views;
  const orders = await sqlQuery<CashierOrderView['order'][]>(
    dataSource,
    `SELECT id, pay_order_no, merchant_order_no, amount, currency, subject, status, paid_channel_order_no, expire_at
       FROM pay_order WHERE id IN (?)`,
    [payOrderIds],
  );
  for (const order of orders) views.set(Number(order.id), { order, attempts: [] });
  const attempts = await sqlQuery<CashierOrderView['attempts']>(
    dataSource,
    'SELECT pay_order_id, channel, status, pay_url, pay_action_type FROM channel_order WHERE pay_order_id IN (?) ORDER BY id',
    [payOrderIds],
  );
  for (const attempt of attempts) views.get(Number(attempt.pay_order_id))?.attempts.push(attempt);
  return views;
}
