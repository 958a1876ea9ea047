/**
 * The sandbox's orders and refunds, in memory, in fen (integer minor units of CNY). As WeChat Pay
 * documents it, an unpaid order past its `time_expire` can no longer be paid but stays `NOTPAY`
 * until the merchant closes it; refunds are asynchronous: `PROCESSING` first, then `SUCCESS` (or
 * `ABNORMAL`) a moment later.
 */
import { randomInt } from 'node:crypto';

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED';
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

export interface Refund {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  amount: number;
  notifyUrl: string | null;
  status: RefundStatus;
  createdAt: number;
  successTime: number | null;
}

export type WechatErrorCode =
  | 'ORDER_NOT_EXIST'
  | 'RESOURCE_NOT_EXISTS'
  | 'ORDERPAID'
  | 'ORDER_CLOSED'
  | 'OUT_TRADE_NO_USED'
  | 'INVALID_REQUEST';

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
};

const digits = (count: number) => Array.from({ length: count }, () => String(randomInt(10))).join('');

export class WechatpayState {
  private readonly trades = new Map<string, Trade>();
  private readonly byToken = new Map<string, Trade>();
  private readonly refunds = new Map<string, Refund>();

  /** Whether an unpaid order can still be paid at `now`. */
  payable(trade: Trade, now: number): boolean {
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

  /** Closing a closed order again succeeds; a paid one is refused. */
  close(outTradeNo: string, now: number): { ok: true; trade: Trade; closed: boolean } | Failure {
    const found = this.find(outTradeNo);
    if (!found.ok) return found;
    const { trade } = found;
    if (trade.state === 'SUCCESS' || trade.state === 'REFUND') return failure('ORDERPAID', '订单已支付');
    if (trade.state === 'CLOSED') return { ok: true, trade, closed: false };
    trade.state = 'CLOSED';
    trade.closedAt = now;
    return { ok: true, trade, closed: true };
  }

  refundedTotal(outTradeNo: string): number {
    let total = 0;
    for (const refund of this.refunds.values())
      if (refund.outTradeNo === outTradeNo && refund.status !== 'CLOSED' && refund.status !== 'ABNORMAL')
        total += refund.amount;
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
    };
    this.refunds.set(refund.outRefundNo, refund);
    trade.state = 'REFUND';
    return { ok: true, refund, trade, created: true };
  }

  /** The refund reaches the shopper (or cannot: ABNORMAL). */
  finishRefund(outRefundNo: string, status: 'SUCCESS' | 'ABNORMAL', now: number): Refund | undefined {
    const refund = this.refunds.get(outRefundNo);
    if (!refund || refund.status !== 'PROCESSING') return undefined;
    refund.status = status;
    if (status === 'SUCCESS') refund.successTime = now;
    return refund;
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
