/**
 * The sandbox's orders and refunds, in memory, in fen (integer minor units of CNY). As WeChat Pay
 * documents it, an unpaid order past its `time_expire` can no longer be paid but stays `NOTPAY`
 * until the merchant closes it; an order whose shopper is entering the password is `USERPAYING`, and
 * a close of it is answered `202 USER_PAYING` (it stays payable); refunds are asynchronous:
 * `PROCESSING` first, then `SUCCESS` a moment later (or `ABNORMAL`: the money stays with WeChat Pay
 * until the merchant applies for an abnormal refund, which moves it to `PROCESSING` again; or
 * `CLOSED`: nothing moved).
 */
import { randomInt } from 'node:crypto';

export type TradeState = 'NOTPAY' | 'USERPAYING' | 'SUCCESS' | 'REFUND' | 'CLOSED';
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';

export interface NewTrade {
  outTradeNo: string;
  attach: string | null;
  description: string;
  amount: number;
  timeExpire: number | null;
  notifyUrl: string;
}

export interface Trade extends NewTrade {
  /** The token in the QR code's `weixin://wxpay/bizpayurl?pr=…`. */
  prepayToken: string;
  createdAt: number;
  state: TradeState;
  transactionId: string | null;
  successTime: number | null;
  openid: string | null;
  closedAt: number | null;
}

/** How the merchant had an abnormal refund paid out (`apply-abnormal-refund`'s `type`). */
export type AbnormalRefundType = 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD';

export interface Refund {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  amount: number;
  notifyUrl: string | null;
  status: RefundStatus;
  createdAt: number;
  successTime: number | null;
  /** Set once the merchant applied for an abnormal refund: where the money goes instead. */
  abnormalHandling: AbnormalRefundType | null;
}

export type WechatErrorCode =
  | 'ORDER_NOT_EXIST'
  | 'RESOURCE_NOT_EXISTS'
  | 'ORDERPAID'
  | 'ORDER_CLOSED'
  | 'OUT_TRADE_NO_USED'
  | 'INVALID_REQUEST'
  | 'USER_PAYING';

export type Failure = { ok: false; code: WechatErrorCode; message: string };
const failure = (code: WechatErrorCode, message: string): Failure => ({ ok: false, code, message });

/** HTTP statuses WeChat Pay answers its error codes with. */
export const ERROR_STATUS: Record<WechatErrorCode, number> = {
  ORDER_NOT_EXIST: 404,
  RESOURCE_NOT_EXISTS: 404,
  ORDERPAID: 403,
  ORDER_CLOSED: 400,
  OUT_TRADE_NO_USED: 403,
  INVALID_REQUEST: 400,
  // A 2xx with a body: "用户支付中，需要输入密码" (close-order API's business error codes).
  USER_PAYING: 202,
};

const digits = (count: number) => Array.from({ length: count }, () => String(randomInt(10))).join('');

export class WechatpayState {
  private readonly trades = new Map<string, Trade>();
  private readonly byToken = new Map<string, Trade>();
  private readonly refunds = new Map<string, Refund>();

  /** Whether an unpaid order can still be paid at `now`: a password entry under way can always finish. */
  payable(trade: Trade, now: number): boolean {
    if (trade.state === 'USERPAYING') return true;
    return trade.state === 'NOTPAY' && (trade.timeExpire === null || now < trade.timeExpire);
  }

  /** A Native order: the same request again is the same order (same code_url); other parameters are refused. */
  create(request: NewTrade, now: number): { ok: true; trade: Trade; created: boolean } | Failure {
    const existing = this.trades.get(request.outTradeNo);
    if (existing) {
      if (existing.amount !== request.amount || existing.description !== request.description)
        return failure('OUT_TRADE_NO_USED', '商户订单号重复: the same out_trade_no with other parameters');
      if (existing.state === 'SUCCESS' || existing.state === 'REFUND')
        return failure('ORDERPAID', '订单已支付');
      if (existing.state === 'CLOSED') return failure('ORDER_CLOSED', '订单已关闭');
      return { ok: true, trade: existing, created: false };
    }
    const trade: Trade = {
      ...request,
      prepayToken: `${digits(6)}${randomInt(1e9).toString(36)}`,
      createdAt: now,
      state: 'NOTPAY',
      transactionId: null,
      successTime: null,
      openid: null,
      closedAt: null,
    };
    this.trades.set(trade.outTradeNo, trade);
    this.byToken.set(trade.prepayToken, trade);
    return { ok: true, trade, created: true };
  }

  find(outTradeNo: string): { ok: true; trade: Trade } | Failure {
    const trade = this.trades.get(outTradeNo);
    return trade ? { ok: true, trade } : failure('ORDER_NOT_EXIST', '订单不存在');
  }

  byPrepayToken(token: string): Trade | undefined {
    return this.byToken.get(token);
  }

  pay(outTradeNo: string, now: number): { ok: true; trade: Trade } | Failure {
    const found = this.find(outTradeNo);
    if (!found.ok) return found;
    const { trade } = found;
    if (trade.state === 'SUCCESS' || trade.state === 'REFUND') return failure('ORDERPAID', '订单已支付');
    if (!this.payable(trade, now)) return failure('ORDER_CLOSED', '订单已关闭或已过期');
    trade.state = 'SUCCESS';
    trade.successTime = now;
    trade.transactionId = `4200${digits(24)}`;
    trade.openid = `oUpF8uMuAJO_M2pxb1Q9zNjWeS${digits(2)}`;
    return { ok: true, trade };
  }

  /** The shopper has scanned the code and is entering the password: `USERPAYING` until paid or given up. */
  startPaying(outTradeNo: string, now: number): { ok: true; trade: Trade } | Failure {
    const found = this.find(outTradeNo);
    if (!found.ok) return found;
    const { trade } = found;
    if (trade.state === 'SUCCESS' || trade.state === 'REFUND') return failure('ORDERPAID', '订单已支付');
    if (trade.state === 'USERPAYING') return { ok: true, trade };
    if (!this.payable(trade, now)) return failure('ORDER_CLOSED', '订单已关闭或已过期');
    trade.state = 'USERPAYING';
    return { ok: true, trade };
  }

  /** The shopper gave up the password entry: the order waits again (`NOTPAY`). */
  stopPaying(outTradeNo: string): { ok: true; trade: Trade } | Failure {
    const found = this.find(outTradeNo);
    if (!found.ok) return found;
    if (found.trade.state !== 'USERPAYING') return failure('INVALID_REQUEST', '订单不在支付中');
    found.trade.state = 'NOTPAY';
    return found;
  }

  /** Closing a closed order again succeeds; a paid one is refused, one in payment answered USER_PAYING. */
  close(outTradeNo: string, now: number): { ok: true; trade: Trade; closed: boolean } | Failure {
    const found = this.find(outTradeNo);
    if (!found.ok) return found;
    const { trade } = found;
    if (trade.state === 'SUCCESS' || trade.state === 'REFUND') return failure('ORDERPAID', '订单已支付');
    if (trade.state === 'USERPAYING') return failure('USER_PAYING', '用户支付中，需要输入密码');
    if (trade.state === 'CLOSED') return { ok: true, trade, closed: false };
    trade.state = 'CLOSED';
    trade.closedAt = now;
    return { ok: true, trade, closed: true };
  }

  /** What is refunded or being refunded; an ABNORMAL refund still holds its money (only CLOSED frees it). */
  refundedTotal(outTradeNo: string): number {
    let total = 0;
    for (const refund of this.refunds.values())
      if (refund.outTradeNo === outTradeNo && refund.status !== 'CLOSED') total += refund.amount;
    return total;
  }

  /** Idempotent by out_refund_no: the same request again answers the refund as it is. */
  refund(
    request: {
      outTradeNo: string;
      outRefundNo: string;
      amount: number;
      total: number;
      notifyUrl: string | null;
    },
    now: number,
  ): { ok: true; refund: Refund; trade: Trade; created: boolean } | Failure {
    const trade = this.trades.get(request.outTradeNo);
    if (!trade) return failure('RESOURCE_NOT_EXISTS', '订单不存在');
    const existing = this.refunds.get(request.outRefundNo);
    if (existing) {
      if (existing.outTradeNo !== request.outTradeNo || existing.amount !== request.amount)
        return failure('INVALID_REQUEST', '同一退款单号的参数不一致');
      return { ok: true, refund: existing, trade, created: false };
    }
    if (trade.state !== 'SUCCESS' && trade.state !== 'REFUND')
      return failure('INVALID_REQUEST', '订单未支付，不能退款');
    if (request.total !== trade.amount) return failure('INVALID_REQUEST', '订单金额 total 与原订单不一致');
    if (this.refundedTotal(trade.outTradeNo) + request.amount > trade.amount)
      return failure('INVALID_REQUEST', '退款金额超过订单可退金额');
    const refund: Refund = {
      outRefundNo: request.outRefundNo,
      refundId: `5030${digits(26)}`,
      outTradeNo: trade.outTradeNo,
      amount: request.amount,
      notifyUrl: request.notifyUrl,
      status: 'PROCESSING',
      createdAt: now,
      successTime: null,
      abnormalHandling: null,
    };
    this.refunds.set(refund.outRefundNo, refund);
    trade.state = 'REFUND';
    return { ok: true, refund, trade, created: true };
  }

  /** The refund reaches the shopper (or cannot: ABNORMAL; or is closed: CLOSED). */
  finishRefund(
    outRefundNo: string,
    status: 'SUCCESS' | 'ABNORMAL' | 'CLOSED',
    now: number,
  ): Refund | undefined {
    const refund = this.refunds.get(outRefundNo);
    if (!refund || refund.status !== 'PROCESSING') return undefined;
    refund.status = status;
    if (status === 'SUCCESS') refund.successTime = now;
    return refund;
  }

  /**
   * The merchant's abnormal-refund application (`apply-abnormal-refund`): an ABNORMAL refund is paid
   * out again, to the shopper's bank card or the merchant's bank account, `PROCESSING` until done.
   * The same application again answers the refund as it is.
   */
  applyAbnormal(
    refundId: string,
    outRefundNo: string,
    type: AbnormalRefundType,
  ): { ok: true; refund: Refund; trade: Trade; applied: boolean } | Failure {
    const found = this.findRefund(outRefundNo);
    if (!found.ok || found.refund.refundId !== refundId)
      return failure('RESOURCE_NOT_EXISTS', '退款单不存在');
    const { refund } = found;
    if (refund.abnormalHandling !== null) {
      if (refund.abnormalHandling !== type) return failure('INVALID_REQUEST', '异常退款已按其他方式处理');
      return { ...found, applied: false };
    }
    if (refund.status !== 'ABNORMAL')
      return failure('INVALID_REQUEST', '退款单状态不是退款异常，不能发起异常退款');
    refund.status = 'PROCESSING';
    refund.abnormalHandling = type;
    return { ...found, applied: true };
  }

  findRefund(outRefundNo: string): { ok: true; refund: Refund; trade: Trade } | Failure {
    const refund = this.refunds.get(outRefundNo);
    const trade = refund && this.trades.get(refund.outTradeNo);
    return refund && trade ? { ok: true, refund, trade } : failure('RESOURCE_NOT_EXISTS', '退款单不存在');
  }

  allTrades(): Trade[] {
    return [...this.trades.values()];
  }

  allRefunds(): Refund[] {
    return [...this.refunds.values()];
  }

  clear(): void {
    this.trades.clear();
    this.byToken.clear();
    this.refunds.clear();
  }
}
