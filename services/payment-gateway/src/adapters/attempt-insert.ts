import { randomBytes } from 'node:crypto';
import type { Statement } from '@payments/platform';
import { newEvent, type AttemptRow, type PayOrderRow } from '@payments/core';

/** `po_` / `co_` + time + randomness: unique, sortable, and short enough for every provider. */
export function newNumber(prefix: 'po' | 'co'): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;
}

export function isDuplicateKey(error: unknown): boolean {
  const code =
    (error as { code?: string; driverError?: { code?: string } }).code ??
    (error as { driverError?: { code?: string } }).driverError?.code;
  return code === 'ER_DUP_ENTRY';
}

/**
 * What a new attempt is made with: its channel, and what its provider create is asked, stored
 * with it so that every retry of the create sends the same (CreateTradeRequest.requestedAt).
 */
export interface NewAttempt {
  channel: string;
  subject: string;
  returnUrl: string | null;
  /** The channel's `refundable`: the settlement keeps the payment that cannot be refunded. */
  refundable: boolean;
}

/**
 * The INSERT of a PAYING attempt of `payOrder`, and the row it writes once its id is known. The
 * unique in-flight key (`<pay order id>:<channel>`) refuses a second one for the same order and
 * channel. `payOrderId: 'LAST_INSERT_ID()'`: the order is inserted just before, in the same batch.
 */
export function attemptInsert(
  payOrder: Omit<PayOrderRow, 'id'>,
  payOrderId: number | 'LAST_INSERT_ID()',
  { channel, subject, returnUrl, refundable }: NewAttempt,
  firstPollAt: Date,
  // Stated rather than defaulted, so the row we return is the row written.
  createdAt = new Date(),
): { statement: Statement; row: (ids: { id: number; payOrderId: number }) => AttemptRow } {
  const channelOrderNo = newNumber('co');
  const id = payOrderId === 'LAST_INSERT_ID()' ? 'LAST_INSERT_ID()' : '?';
  return {
    statement: {
      sql: `INSERT INTO channel_order (channel_order_no, pay_order_id, merchant_order_no, channel, amount, currency, status,
              inflight_key, expire_at, next_poll_at, created_at, subject, return_url, refundable)
            VALUES (?, ${id}, ?, ?, ?, ?, 'PAYING', CONCAT(${id}, ':', ?), ?, ?, ?, ?, ?, ?)`,
      params: [
        channelOrderNo,
        ...(id === '?' ? [payOrderId] : []),
        payOrder.merchant_order_no,
        channel,
        payOrder.amount,
        payOrder.currency,
        ...(id === '?' ? [payOrderId] : []),
        channel,
        payOrder.expire_at,
        firstPollAt,
        createdAt,
        subject,
        returnUrl,
        refundable ? 1 : 0,
      ],
    },
    row: (ids) => ({
      id: ids.id,
      channel_order_no: channelOrderNo,
      pay_order_id: ids.payOrderId,
      merchant_order_no: payOrder.merchant_order_no,
      channel,
      amount: payOrder.amount,
      currency: payOrder.currency,
      status: 'PAYING',
      pay_url: null,
      pay_action_type: null,
      provider_trade_no: null,
      expire_at: new Date(payOrder.expire_at),
      poll_count: 0,
      needs_review: 0,
      subject,
      return_url: returnUrl,
      refundable: refundable ? 1 : 0,
      close_claimed_at: null,
      created_at: createdAt,
    }),
  };
}

export function createdEvent(attempt: AttemptRow, payOrder: PayOrderRow) {
  return newEvent('channel_order.created', {
    payOrderNo: payOrder.pay_order_no,
    merchantOrderNo: payOrder.merchant_order_no,
    channelOrderNo: attempt.channel_order_no,
    channel: attempt.channel,
    amount: Number(attempt.amount),
    currency: attempt.currency,
    expireAt: new Date(attempt.expire_at).toISOString(),
  });
}
