/**
 * What Alipay's answers mean (CONTRACT 9), in one place: trade statuses with an exhaustive
 * switch, error codes by what the caller must do about them. Pure: no I/O.
 */
import { z } from 'zod';
import { type ProviderOutcome, fromDecimalString } from '@payments/core';
import { parseChinaDateTime } from '../china-time';

/** Alipay trades are in yuan (CNY) only here: the cross-border products are other APIs. */
export const ALIPAY_CURRENCY = 'CNY';

export const alipayTradeStatus = z.enum([
  'WAIT_BUYER_PAY',
  'TRADE_SUCCESS',
  'TRADE_FINISHED',
  'TRADE_CLOSED',
]);
export type AlipayTradeStatus = z.infer<typeof alipayTradeStatus>;

/** The fields of a trade that decide its outcome, as the query answer and the notification both name them. */
export interface AlipayTradeFacts {
  trade_status: AlipayTradeStatus;
  total_amount: string;
  trade_no?: string;
  /** When the shopper paid (query: `send_pay_date`; notification: `gmt_payment`), China time. */
  paid_at?: string;
}

export function alipayTradeOutcome(trade: AlipayTradeFacts, now: Date = new Date()): ProviderOutcome {
  const providerTradeNo = trade.trade_no ?? null;
  const status = trade.trade_status;
  switch (status) {
    case 'WAIT_BUYER_PAY':
      return { status: 'PAYING', providerTradeNo };
    case 'TRADE_SUCCESS': // paid, refundable
    case 'TRADE_FINISHED': // paid, past its refund window
      return {
        status: 'SUCCESS',
        amount: fromDecimalString(trade.total_amount, ALIPAY_CURRENCY),
        currency: ALIPAY_CURRENCY,
        paidAt: trade.paid_at ? parseChinaDateTime(trade.paid_at) : now,
        providerTradeNo,
      };
    case 'TRADE_CLOSED':
      // Closed unpaid (by us or by its time_expire), or paid and then fully refunded: either way
      // no longer payable. Settling never turns a kept payment into a closed one (decideSettlement).
      return { status: 'CLOSED', providerTradeNo };
    default: {
      const unknown: never = status;
      throw new Error(`unknown Alipay trade status ${String(unknown)}`);
    }
  }
}

/** What a caller does about an Alipay error answer. */
export type AlipayErrorMeaning =
  /** `ACQ.TRADE_NOT_EXIST`: Alipay has no such trade (yet: see `meaningOfNotFound`). */
  | 'NOT_FOUND'
  /** `ACQ.TRADE_STATUS_ERROR`: the trade is in a state that does not allow it (a close of a paid or closed trade). */
  | 'WRONG_STATUS'
  /** A create for a trade Alipay already has, paid or closed: what it is, a query tells. */
  | 'TRADE_EXISTS'
  /** Alipay's side failed or is busy: a provider failure, retried. */
  | 'TRY_LATER'
  /** The request itself is refused: retrying it unchanged cannot succeed. */
  | 'REFUSED';

export function meaningOfAlipayError(code: string): AlipayErrorMeaning {
  switch (code) {
    case 'ACQ.TRADE_NOT_EXIST':
      return 'NOT_FOUND';
    case 'ACQ.TRADE_STATUS_ERROR':
      return 'WRONG_STATUS';
    case 'ACQ.TRADE_HAS_SUCCESS':
    case 'ACQ.TRADE_HAS_CLOSE':
      return 'TRADE_EXISTS';
    case 'ACQ.SYSTEM_ERROR':
    case 'SYSTEM_ERROR':
    case 'ACQ.SELLER_BALANCE_NOT_ENOUGH': // a refund waits until the merchant's balance covers it
    case 'ACQ.REFUND_CHARGE_ERROR':
      return 'TRY_LATER';
    // Among the refused: ACQ.INVALID_PARAMETER, ACQ.ACCESS_FORBIDDEN, ACQ.CONTEXT_INCONSISTENT
    // (same out_trade_no, other amount), ACQ.TOTAL_FEE_EXCEED, ACQ.REFUND_AMT_NOT_EQUAL_TOTAL,
    // ACQ.TRADE_NOT_ALLOW_REFUND, ACQ.TRADE_HAS_FINISHED, invalid-signature, invalid-app-id.
    default:
      return 'REFUSED';
  }
}
