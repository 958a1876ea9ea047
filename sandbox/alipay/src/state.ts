/**
 * The sandbox's trades and refunds, in memory, in fen (integer minor units of CNY). A trade
 * exists for Alipay's APIs only once the shopper acts on it (scans the QR code, opens the page):
 * until then query and close answer ACQ.TRADE_NOT_EXIST, and it can still be paid until its
 * time_expire, as reported for the real API.
 */
import { randomInt } from 'node:crypto';

export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED';
export type Product = 'alipay-qr' | 'alipay-page';

export interface Trade extends NewTrade {
  tradeNo: string;
  createdAt: number;
  /** The shopper scanned the code or opened the page: Alipay's APIs know the trade. */
  opened: boolean;
  status: TradeStatus;
  paidAt: number | null;
  /** Closed by the merchant (not by expiry). */
  closedByMerchant: boolean;
  closedAt: number | null;
}

export interface Refund {
  outRequestNo: string;
  outTradeNo: string;
  amount: number;
  status: 'SUCCESS' | 'FAILED';
  at: number;
}

export type AlipayErrorCode =
  | 'ACQ.TRADE_NOT_EXIST'
  | 'ACQ.TRADE_STATUS_ERROR'
  | 'ACQ.TRADE_HAS_SUCCESS'
  | 'ACQ.TRADE_HAS_CLOSE'
  | 'ACQ.CONTEXT_INCONSISTENT'
  | 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL'
  | 'ACQ.TRADE_NOT_ALLOW_REFUND';

export type Failure = { ok: false; code: AlipayErrorCode; message: string };
const failure = (code: AlipayErrorCode, message: string): Failure => ({ ok: false, code, message });

export interface NewTrade {
  outTradeNo: string;
  product: Product;
  merchantOrderNo: string | null;
  amount: number;
  subject: string;
  timeExpire: number | null;
  notifyUrl: string | null;
  returnUrl: string | null;
}

/** `2026120122001` + 15 digits: the shape of Alipay's trade_no. */
function newTradeNo(now: number): string {
  const day = new Date(now + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
  return `${day}22001${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(1e6)).padStart(6, '0')}`;
}

export class AlipayState {
  private readonly trades = new Map<string, Trade>();
  private readonly refunds = new Map<string, Refund>();

  /** The status Alipay would report now: an unpaid trade past its time_expire is closed. */
  statusOf(trade: Trade, now: number): TradeStatus {
    if (trade.status === 'WAIT_BUYER_PAY' && trade.timeExpire !== null && now >= trade.timeExpire)
      return 'TRADE_CLOSED';
    return trade.status;
  }

  /** Precreate or page open: the same request again is the same trade; another amount is refused. */
  create(
    request: NewTrade,
    now: number,
    opened: boolean,
  ): { ok: true; trade: Trade; created: boolean } | Failure {
    const existing = this.trades.get(request.outTradeNo);
    if (existing) {
      if (existing.amount !== request.amount || existing.product !== request.product)
        return failure('ACQ.CONTEXT_INCONSISTENT', 'the same out_trade_no with other parameters');
      const status = this.statusOf(existing, now);
      // Page pay opened again shows the trade as it is; a precreate of a paid or closed one is refused.
      if (!opened && status === 'TRADE_SUCCESS')
        return failure('ACQ.TRADE_HAS_SUCCESS', 'trade already paid');
      if (!opened && status === 'TRADE_CLOSED') return failure('ACQ.TRADE_HAS_CLOSE', 'trade already closed');
      if (opened) existing.opened = true;
      return { ok: true, trade: existing, created: false };
    }
    const trade: Trade = {
      ...request,
      tradeNo: newTradeNo(now),
      createdAt: now,
      opened,
      status: 'WAIT_BUYER_PAY',
      paidAt: null,
      closedByMerchant: false,
      closedAt: null,
    };
    this.trades.set(trade.outTradeNo, trade);
    return { ok: true, trade, created: true };
  }

  /** As Alipay's APIs see it: unknown until the shopper acted on it. */
  find(outTradeNo: string): { ok: true; trade: Trade } | Failure {
    const trade = this.trades.get(outTradeNo);
    if (!trade || !trade.opened) return failure('ACQ.TRADE_NOT_EXIST', 'trade does not exist');
    return { ok: true, trade };
  }

  /** The shopper's side: any trade we handed out, opened or not. */
  get(outTradeNo: string): Trade | undefined {
    return this.trades.get(outTradeNo);
  }

  open(outTradeNo: string): Trade | undefined {
    const trade = this.trades.get(outTradeNo);
    if (trade) trade.opened = true;
    return trade;
  }

  pay(
    outTradeNo: string,
    now: number,
  ): { ok: true; trade: Trade } | Failure | { ok: false; code: 'UNKNOWN' } {
    const trade = this.trades.get(outTradeNo);
    if (!trade) return { ok: false, code: 'UNKNOWN' };
    const status = this.statusOf(trade, now);
    if (status === 'TRADE_SUCCESS') return failure('ACQ.TRADE_HAS_SUCCESS', 'trade already paid');
    if (status === 'TRADE_CLOSED') return failure('ACQ.TRADE_HAS_CLOSE', 'trade closed or expired');
    trade.opened = true;
    trade.status = 'TRADE_SUCCESS';
    trade.paidAt = now;
    return { ok: true, trade };
  }

  close(outTradeNo: string, now: number): { ok: true; trade: Trade } | Failure {
    const found = this.find(outTradeNo);
    if (!found.ok) return found;
    if (this.statusOf(found.trade, now) !== 'WAIT_BUYER_PAY')
      return failure('ACQ.TRADE_STATUS_ERROR', 'trade is paid or closed');
    found.trade.status = 'TRADE_CLOSED';
    found.trade.closedByMerchant = true;
    found.trade.closedAt = now;
    return { ok: true, trade: found.trade };
  }

  refundedTotal(outTradeNo: string): number {
    let total = 0;
    for (const refund of this.refunds.values())
      if (refund.outTradeNo === outTradeNo && refund.status === 'SUCCESS') total += refund.amount;
    return total;
  }

  /** Synchronous, as Alipay's: idempotent by out_request_no (a repeat moves no money: fund_change N). */
  refund(
    outTradeNo: string,
    outRequestNo: string,
    amount: number,
    now: number,
    fail: boolean,
  ): { ok: true; refund: Refund; fundChange: boolean; trade: Trade } | Failure {
    const found = this.find(outTradeNo);
    if (!found.ok) return found;
    const { trade } = found;
    const existing = this.refunds.get(outRequestNo);
    if (existing) {
      if (existing.outTradeNo !== outTradeNo || existing.amount !== amount)
        return failure('ACQ.CONTEXT_INCONSISTENT', 'the same out_request_no with other parameters');
      if (existing.status === 'SUCCESS') return { ok: true, refund: existing, fundChange: false, trade };
      // A failed refund is retried with the same out_request_no (Alipay's advice): it may pass now.
    }
    if (trade.status !== 'TRADE_SUCCESS') return failure('ACQ.TRADE_STATUS_ERROR', 'trade is not paid');
    if (this.refundedTotal(outTradeNo) + amount > trade.amount)
      return failure('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', 'refund exceeds what is left of the trade');
    const refund: Refund = { outRequestNo, outTradeNo, amount, status: fail ? 'FAILED' : 'SUCCESS', at: now };
    this.refunds.set(outRequestNo, refund);
    // A refund that failed moved no money: Alipay answers 10000 with fund_change N, and its query
    // then answers without refund_status ("not received, or failed").
    return { ok: true, refund, fundChange: !fail, trade };
  }

  /** A refund by its out_request_no, made (SUCCESS) or failed; undefined for one never received. */
  findRefund(outTradeNo: string, outRequestNo: string): Refund | undefined {
    const refund = this.refunds.get(outRequestNo);
    return refund && refund.outTradeNo === outTradeNo ? refund : undefined;
  }

  allTrades(): Trade[] {
    return [...this.trades.values()];
  }

  allRefunds(): Refund[] {
    return [...this.refunds.values()];
  }

  clear(): void {
    this.trades.clear();
    this.refunds.clear();
  }
}
