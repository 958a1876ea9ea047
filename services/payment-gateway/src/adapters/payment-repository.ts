import { affectedRows, batchedTransaction, insertId, sqlQuery, type DataSource } from '@payments/platform';
import {
  lockPayOrderStatement,
  outboxInsert,
  outboxInsertIfOneRowChanged,
  payActionTarget,
  type EventEnvelope,
  type CreatedTrade,
  type ApplyRequest,
  type AttemptRow,
  type PayOrderRow,
  type RefundReason,
  type RefundStatus,
} from '@payments/core';
import { attemptInsert, createdEvent, isDuplicateKey, newNumber, type NewAttempt } from './attempt-insert';
import { callbackInsert, type CallbackEntry } from './callback-log';

export interface RefundRow {
  refund_no: string;
  channel_order_no: string;
  reason: RefundReason;
  amount: number;
  status: RefundStatus;
  settled_manually_by: string | null;
  settled_manually_at: Date | null;
  manual_reference: string | null;
}

/** SQL for pay orders and attempts; every state change that others react to writes its event. */
export class PaymentRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findPayOrder(merchantOrderNo: string): Promise<PayOrderRow | undefined> {
    const [row] = await sqlQuery(this.dataSource, 'SELECT * FROM pay_order WHERE merchant_order_no = ?', [
      merchantOrderNo,
    ]);
    return row as PayOrderRow | undefined;
  }

  async findPayOrderById(id: number): Promise<(PayOrderRow & { subject: string }) | undefined> {
    const [row] = await sqlQuery(this.dataSource, 'SELECT * FROM pay_order WHERE id = ?', [id]);
    return row as (PayOrderRow & { subject: string }) | undefined;
  }

  /** A pay order with no attempt yet (the cashier's: the shopper picks the channel); undefined if it exists. */
  async createPayOrder(
    order: { merchantOrderNo: string; amount: number; currency: string; subject: string; returnUrl: string },
    expireAt: Date,
  ): Promise<PayOrderRow | undefined> {
    const payOrderNo = newNumber('po');
    try {
      const inserted = await sqlQuery(
        this.dataSource,
        `INSERT INTO pay_order (pay_order_no, merchant_order_no, amount, currency, subject, return_url, status, expire_at, version)
         VALUES (?, ?, ?, ?, ?, ?, 'UNPAID', ?, 1)`,
        [
          payOrderNo,
          order.merchantOrderNo,
          order.amount,
          order.currency,
          order.subject,
          order.returnUrl,
          expireAt,
        ],
      );
      return {
        id: insertId(inserted),
        pay_order_no: payOrderNo,
        merchant_order_no: order.merchantOrderNo,
        amount: order.amount,
        currency: order.currency,
        status: 'UNPAID',
        paid_channel_order_no: null,
        expire_at: expireAt,
      };
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  async attemptsOf(payOrderId: number): Promise<AttemptRow[]> {
    return sqlQuery(this.dataSource, 'SELECT * FROM channel_order WHERE pay_order_id = ? ORDER BY id', [
      payOrderId,
    ]);
  }

  async findAttempt(channelOrderNo: string): Promise<AttemptRow | undefined> {
    const [row] = await sqlQuery(this.dataSource, 'SELECT * FROM channel_order WHERE channel_order_no = ?', [
      channelOrderNo,
    ]);
    return row as AttemptRow | undefined;
  }

  async refundsOf(payOrderId: number): Promise<RefundRow[]> {
    return sqlQuery(
      this.dataSource,
      `SELECT refund_no, channel_order_no, reason, amount, status, settled_manually_by, settled_manually_at, manual_reference
         FROM refund_order WHERE pay_order_id = ? ORDER BY id`,
      [payOrderId],
    );
  }

  /**
   * A new order and its first attempt, in one transaction before the provider is called (record,
   * call, then settle), in one round trip: the pay order goes straight to PAYING. Undefined when
   * another instance inserted the order first (its unique key): the caller decides again on what
   * is there.
   */
  async createPayOrderWithAttempt(
    request: ApplyRequest,
    newAttempt: NewAttempt,
    expireAt: Date,
    firstPollAt: Date,
  ): Promise<{ payOrder: PayOrderRow; attempt: AttemptRow } | undefined> {
    const order: Omit<PayOrderRow, 'id'> = {
      pay_order_no: newNumber('po'),
      merchant_order_no: request.merchantOrderNo,
      amount: request.amount,
      currency: request.currency,
      status: 'PAYING',
      paid_channel_order_no: null,
      expire_at: expireAt,
    };
    // The order and its first attempt are made at one instant: stated for both, so that neither
    // seems to come before the other (the database's clock and ours differ by a little).
    const createdAt = new Date();
    const attempt = attemptInsert(order, 'LAST_INSERT_ID()', newAttempt, firstPollAt, createdAt);
    try {
      const [orderInserted, attemptInserted] = await batchedTransaction(this.dataSource, (send) =>
        send(
          [
            {
              sql: `INSERT INTO pay_order (pay_order_no, merchant_order_no, amount, currency, subject, return_url, status, expire_at, version, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'PAYING', ?, 1, ?)`,
              params: [
                order.pay_order_no,
                order.merchant_order_no,
                order.amount,
                order.currency,
                request.subject,
                request.returnUrl ?? null,
                expireAt,
                createdAt,
              ],
            },
            attempt.statement,
          ],
          { commit: true },
        ),
      );
      const payOrder: PayOrderRow = { id: insertId(orderInserted), ...order };
      return { payOrder, attempt: attempt.row({ id: insertId(attemptInserted), payOrderId: payOrder.id }) };
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  /**
   * Records a new PAYING attempt before the provider is called (record, call, then settle). The
   * unique in-flight key refuses a second attempt for the same order and channel; the pay order
   * must still be payable under its row lock. Returns undefined when the key was taken.
   */
  async recordAttempt(
    payOrder: PayOrderRow,
    newAttempt: NewAttempt,
    firstPollAt: Date,
  ): Promise<{ attempt: AttemptRow } | { refused: PayOrderRow['status'] } | undefined> {
    try {
      return await batchedTransaction(this.dataSource, async (send) => {
        const [[locked]] = (await send([lockPayOrderStatement(payOrder.id)])) as [PayOrderRow[]];
        if (locked!.status === 'PAID' || locked!.status === 'CLOSED') return { refused: locked!.status };
        const attempt = attemptInsert(payOrder, payOrder.id, newAttempt, firstPollAt);
        const [inserted] = await send(
          [
            attempt.statement,
            // By primary key alone: we hold the row's lock and know its status. With `AND status =
            // 'UNPAID'` MariaDB may read through the (status, expire_at) index when few orders are
            // UNPAID, locking other orders' entries: two applies then deadlocked (seen in the demo).
            ...(locked!.status === 'UNPAID'
              ? [
                  {
                    sql: `UPDATE pay_order SET status = 'PAYING', version = version + 1 WHERE id = ?`,
                    params: [payOrder.id],
                  },
                ]
              : []),
          ],
          { commit: true },
        );
        return { attempt: attempt.row({ id: insertId(inserted), payOrderId: payOrder.id }) };
      });
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  /**
   * Stores the provider's pay URL and writes `channel_order.created`, in one round trip (the
   * event only if the attempt was still PAYING). Returns the event, for the caller to hand to
   * `OutboxRelay.publishCommitted`, or undefined if the attempt was settled meanwhile, or the
   * poller claimed its close.
   */
  async markCreated(
    attempt: AttemptRow,
    payOrder: PayOrderRow,
    created: CreatedTrade,
  ): Promise<EventEnvelope<'channel_order.created'> | undefined> {
    const event = createdEvent(attempt, payOrder);
    const [updated] = await batchedTransaction(this.dataSource, (send) =>
      send(
        [
          {
            // A close the poller claimed first (an unconfirmed create it found unpaid) wins: the
            // shopper is never handed a trade that is being closed.
            sql: `UPDATE channel_order SET pay_url = ?, pay_action_type = ?, provider_trade_no = COALESCE(?, provider_trade_no)
                   WHERE id = ? AND status = 'PAYING' AND close_claimed_at IS NULL`,
            params: [
              payActionTarget(created.payAction),
              created.payAction.type,
              created.providerTradeNo,
              attempt.id,
            ],
          },
          outboxInsertIfOneRowChanged(event, { publishAfterCommit: true }),
        ],
        { commit: true },
      ),
    );
    return affectedRows(updated) === 1 ? event : undefined;
  }

  /**
   * Announces an attempt whose create the provider never confirmed, so the poller takes it at
   * once. (If a later apply confirms it, its second announcement starts no second poll chain:
   * the poller's claim by poll_count keeps one.)
   */
  async announceAttempt(attempt: AttemptRow, payOrder: PayOrderRow): Promise<void> {
    const { sql, params } = outboxInsert([createdEvent(attempt, payOrder)]);
    await sqlQuery(this.dataSource, sql, params);
  }

  /** Every callback, raw (see `callbackInsert`). */
  async recordCallback(entry: CallbackEntry): Promise<void> {
    const { sql, params } = callbackInsert(entry);
    await sqlQuery(this.dataSource, sql, params);
  }

  async findApplyAnswer(messageId: string): Promise<
    | {
        status: number;
        body: unknown;
        merchantOrderNo: string;
        /** Null for answers stored before requests were fingerprinted. */
        requestSha256: string | null;
      }
    | undefined
  > {
    const [row] = await sqlQuery(
      this.dataSource,
      'SELECT merchant_order_no, request_sha256, response_status, response_body FROM apply_request WHERE message_id = ?',
      [messageId],
    );
    return row
      ? {
          status: Number(row.response_status),
          body: JSON.parse(row.response_body),
          merchantOrderNo: row.merchant_order_no,
          requestSha256: row.request_sha256,
        }
      : undefined;
  }

  /** Remembers the first answer to a queued apply; a repeat of the message gets the same one. */
  async storeApplyAnswer(
    messageId: string,
    merchantOrderNo: string,
    requestSha256: string,
    answer: { status: number; body: unknown },
  ): Promise<void> {
    await sqlQuery(
      this.dataSource,
      'INSERT IGNORE INTO apply_request (message_id, merchant_order_no, request_sha256, response_status, response_body) VALUES (?, ?, ?, ?, ?)',
      [messageId, merchantOrderNo, requestSha256, answer.status, JSON.stringify(answer.body)],
    );
  }
}
