import type { AttemptStatus, EventType, PayOrderStatus } from '../contracts';

/** What the provider says about one attempt (from a callback, a query or a close). */
export type ProviderOutcome = (
  | { status: 'SUCCESS'; amount: number; currency: string; paidAt: Date }
  | { status: 'FAILED'; reason: string }
  /**
   * No longer payable. For a provider that reports a fully refunded trade as closed (Alipay
   * `TRADE_CLOSED` after a refund), this may follow a payment: it never undoes a SUCCESS.
   */
  | { status: 'CLOSED' }
  | {
      status: 'PAYING';
      /**
       * Until when the trade can still be paid when that is later than the attempt's expiry (an
       * issued Boleto voucher: its own expiry, by calendar day). The poller keeps asking until then.
       */
      payableUntil?: Date;
    }
) & {
  /** The provider's own reference to the trade, when its answer names one: stored on the attempt once. */
  providerTradeNo?: string | null;
};

export interface PayOrderState {
  status: PayOrderStatus;
  amount: number;
  currency: string;
  paidChannelOrderNo: string | null;
  /** Whether the payment kept (`paidChannelOrderNo`) can be refunded through its provider; null when none is kept. */
  keptRefundable: boolean | null;
}

export interface AttemptState {
  channelOrderNo: string;
  status: AttemptStatus;
  amount: number;
  currency: string;
  /** False on a channel that cannot refund through its provider (a Boleto voucher). */
  refundable: boolean;
}

/** What settling decides; a repository applies it in one transaction with its events. */
export interface Settlement {
  /** New attempt status, or null to leave it. */
  attemptTo: AttemptStatus | null;
  /**
   * What happens to the pay order. KEEP_INSTEAD: this attempt becomes the payment kept (it cannot
   * be refunded, the one kept before can); the one kept before is then the extra charge.
   */
  payOrder: 'MARK_PAID' | 'KEEP_INSTEAD' | 'RELEASE_IF_IDLE' | 'NONE';
  /** Events to write to the outbox. */
  events: EventType[];
  /** How this settlement is counted and logged. */
  kind:
    | 'PAID'
    | 'DUPLICATE'
    | 'KEPT_INSTEAD'
    | 'PAID_AFTER_CLOSE'
    | 'FAILED'
    | 'CLOSED'
    | 'NO_CHANGE'
    | 'AMOUNT_MISMATCH'
    | 'CONFLICT_IGNORED';
}

const noChange = (kind: Settlement['kind'] = 'NO_CHANGE'): Settlement => ({
  attemptTo: null,
  payOrder: 'NONE',
  events: [],
  kind,
});

/**
 * Decides the transition for (pay order, attempt, provider outcome). Pure: no I/O.
 *
 * The provider is the ground truth for money: a SUCCESS always makes the attempt SUCCESS, even
 * one we had closed or failed, because the money was taken. Exactly one successful attempt wins
 * the pay order (the compare-and-set UNPAID|PAYING → PAID); every other success is a duplicate
 * (order already PAID) or paid after close (order CLOSED), and the refunder gives it back.
 * Except (CONTRACT 9, keeping the payment that cannot be refunded): a second success that cannot
 * be refunded, on an order whose kept payment can, is kept instead, and the one kept before is the
 * duplicate; the order stays PAID with one payment of its amount.
 * A late FAILED or CLOSED never undoes a SUCCESS. Repeats change nothing.
 */
export function decideSettlement(
  payOrder: PayOrderState,
  attempt: AttemptState,
  outcome: ProviderOutcome,
): Settlement {
  switch (outcome.status) {
    case 'PAYING':
      return noChange();
    case 'SUCCESS': {
      if (outcome.amount !== attempt.amount || outcome.currency !== attempt.currency)
        return noChange('AMOUNT_MISMATCH');
      if (attempt.status === 'SUCCESS') return noChange();
      switch (payOrder.status) {
        case 'UNPAID':
        case 'PAYING':
          return { attemptTo: 'SUCCESS', payOrder: 'MARK_PAID', events: ['payment.succeeded'], kind: 'PAID' };
        case 'PAID':
          // Our own attempt is the payment already; settling it again must not call it a duplicate.
          if (payOrder.paidChannelOrderNo === attempt.channelOrderNo) return noChange();
          if (!attempt.refundable && payOrder.keptRefundable === true)
            return {
              attemptTo: 'SUCCESS',
              payOrder: 'KEEP_INSTEAD',
              events: ['payment.kept_changed', 'payment.duplicate_detected'],
              kind: 'KEPT_INSTEAD',
            };
          return {
            attemptTo: 'SUCCESS',
            payOrder: 'NONE',
            events: ['payment.duplicate_detected'],
            kind: 'DUPLICATE',
          };
        case 'CLOSED':
          return {
            attemptTo: 'SUCCESS',
            payOrder: 'NONE',
            events: ['payment.paid_after_close'],
            kind: 'PAID_AFTER_CLOSE',
          };
        default: {
          const unknown: never = payOrder.status;
          throw new Error(`unknown pay order status ${String(unknown)}`);
        }
      }
    }
    case 'FAILED':
    case 'CLOSED': {
      if (attempt.status === 'SUCCESS') return noChange('CONFLICT_IGNORED');
      if (attempt.status !== 'PAYING') return noChange();
      return {
        attemptTo: outcome.status,
        payOrder: 'RELEASE_IF_IDLE',
        events: outcome.status === 'CLOSED' ? ['channel_order.closed'] : [],
        kind: outcome.status,
      };
    }
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
    }
  }
}
