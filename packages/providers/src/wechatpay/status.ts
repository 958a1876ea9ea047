/**
 * What WeChat Pay's answers mean (CONTRACT 9), in one place: trade states and refund statuses with
 * exhaustive switches, error codes by what the caller must do about them. Pure: no I/O.
 */
import { z } from 'zod';
import type { ProviderOutcome, ProviderRefundStatus } from '@payments/core';
import { parseRfc3339 } from '../china-time';

/** Native payments of a mainland merchant are in fen of yuan (CNY) only. */
export const WECHATPAY_CURRENCY = 'CNY';

export const wechatTradeState = z.enum([
  'SUCCESS',
  'REFUND',
  'NOTPAY',
  'CLOSED',
  'REVOKED',
  'USERPAYING',
  'PAYERROR',
]);
export type WechatTradeState = z.infer<typeof wechatTradeState>;

/** A transaction as the query answer and the decrypted `TRANSACTION.*` notification both describe it. */
export const wechatTransaction = z.object({
  appid: z.string(),
  mchid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.string().optional(),
  trade_state: wechatTradeState,
  trade_state_desc: z.string().optional(),
  success_time: z.string().optional(),
  amount: z
    .object({
      total: z.number().int().optional(),
      payer_total: z.number().int().optional(),
      currency: z.string().optional(),
    })
    .optional(),
});
export type WechatTransaction = z.infer<typeof wechatTransaction>;

export function wechatTradeOutcome(trade: WechatTransaction, now: Date = new Date()): ProviderOutcome {
  const providerTradeNo = trade.transaction_id ?? null;
  const state = trade.trade_state;
  switch (state) {
    case 'NOTPAY': // waiting for the shopper (also past time_expire, until the merchant closes it)
    case 'USERPAYING': // the shopper is entering a password
      return { status: 'PAYING', providerTradeNo };
    case 'SUCCESS':
    case 'REFUND': // paid, and a refund has been started since: still a payment, never a closed trade
      if (trade.amount?.total === undefined)
        throw new RangeError(`a ${state} transaction without amount.total`);
      return {
        status: 'SUCCESS',
        amount: trade.amount.total, // integer fen, as WeChat Pay writes them
        currency: trade.amount.currency ?? WECHATPAY_CURRENCY,
        paidAt: trade.success_time ? parseRfc3339(trade.success_time) : now,
        providerTradeNo,
      };
    case 'CLOSED': // closed unpaid by the merchant
    case 'REVOKED': // a payment-code trade revoked (not native, named for completeness)
      return { status: 'CLOSED', providerTradeNo };
    case 'PAYERROR': // the payment failed (bank refused): ended unpaid
      return {
        status: 'FAILED',
        reason: `PAYERROR${trade.trade_state_desc ? `: ${trade.trade_state_desc}` : ''}`,
        providerTradeNo,
      };
    default: {
      const unknown: never = state;
      throw new Error(`unknown WeChat Pay trade state ${String(unknown)}`);
    }
  }
}

export const wechatRefundStatus = z.enum(['SUCCESS', 'CLOSED', 'PROCESSING', 'ABNORMAL']);
export type WechatRefundStatus = z.infer<typeof wechatRefundStatus>;

export function wechatRefundOutcome(status: WechatRefundStatus): ProviderRefundStatus {
  switch (status) {
    case 'SUCCESS':
      return 'SUCCESS';
    case 'PROCESSING':
      return 'PROCESSING';
    case 'CLOSED': // the refund was closed: no money moved
      return 'FAILED';
    case 'ABNORMAL':
      // "退款异常，需商户平台手动处理": the shopper's card or account could not take the money, which
      // stays with WeChat Pay until the merchant applies for an abnormal refund (to a bank card or
      // the merchant's account) or pays it back by hand. Never a failure a new refund may follow.
      return 'MANUAL_REQUIRED';
    default: {
      const unknown: never = status;
      throw new Error(`unknown WeChat Pay refund status ${String(unknown)}`);
    }
  }
}

/** The `REFUND.*` notification's event types and the refund status each reports. */
export const WECHAT_REFUND_EVENTS: Readonly<Record<string, WechatRefundStatus>> = {
  'REFUND.SUCCESS': 'SUCCESS',
  'REFUND.ABNORMAL': 'ABNORMAL',
  'REFUND.CLOSED': 'CLOSED',
};

/**
 * What a close's signed 2xx answer means. Only `204 No Content` is a closed order; `202` with
 * `USER_PAYING` ("用户支付中，需要输入密码", the close-order API's business error codes) is an order
 * NOT closed whose shopper is entering the password, so its payment may still complete. Any other
 * 2xx is not understood: a provider failure, retried, never taken as closed.
 */
export type WechatCloseMeaning = 'CLOSED' | 'IN_PAYMENT' | 'UNREADABLE';

export function meaningOfWechatClose(status: number, data: unknown): WechatCloseMeaning {
  if (status === 204) return 'CLOSED';
  const code = typeof data === 'object' && data !== null ? (data as { code?: unknown }).code : undefined;
  if (status === 202 && code === 'USER_PAYING') return 'IN_PAYMENT';
  return 'UNREADABLE';
}

/** What a caller does about a WeChat Pay error answer. */
export type WechatErrorMeaning =
  /** `ORDER_NOT_EXIST` / `RESOURCE_NOT_EXISTS`: no such order or refund (yet: see `meaningOfNotFound`). */
  | 'NOT_FOUND'
  /** `ORDERPAID` / `ORDER_CLOSED`: the order is paid or closed already; what it is, a query tells. */
  | 'ORDER_SETTLED'
  /** WeChat Pay's side failed, is busy, or the merchant's balance cannot cover a refund yet: retried. */
  | 'TRY_LATER'
  /** The request itself is refused: retrying it unchanged cannot succeed. */
  | 'REFUSED';

export function meaningOfWechatError(code: string): WechatErrorMeaning {
  switch (code) {
    case 'ORDER_NOT_EXIST':
    case 'RESOURCE_NOT_EXISTS':
      return 'NOT_FOUND';
    case 'ORDERPAID':
    case 'ORDER_CLOSED':
      return 'ORDER_SETTLED';
    case 'SYSTEM_ERROR': // 500 "系统异常，请稍后重试"
    case 'SYSTEMERROR':
    case 'FREQUENCY_LIMITED': // 429; on a close also while the shopper is paying (developer forum)
    case 'BANKERROR':
    case 'NOT_ENOUGH': // a refund waits until the merchant's balance covers it
      return 'TRY_LATER';
    // Among the refused: PARAM_ERROR, INVALID_REQUEST, SIGN_ERROR, APPID_MCHID_NOT_MATCH,
    // MCH_NOT_EXISTS, NO_AUTH, OUT_TRADE_NO_USED (same number, other parameters),
    // USER_ACCOUNT_ABNORMAL, RULE_LIMIT.
    default:
      return 'REFUSED';
  }
}
