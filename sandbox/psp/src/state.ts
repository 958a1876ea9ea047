/**
 * The sandbox PSP's books: trades and refunds in memory. Pure logic: the caller passes the time
 * and any random draws, so every rule here is unit-tested without a server.
 */
import { randomBytes } from 'node:crypto';

export const CHANNELS = ['sandbox-wallet', 'sandbox-qr', 'sandbox-voucher'] as const;
export type Channel = (typeof CHANNELS)[number];

export type TradeStatus = 'WAITING' | 'PAID' | 'CLOSED' | 'EXPIRED';
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'FAILED';

export interface Trade {
  channelOrderNo: string;
  tradeNo: string;
  merchantOrderNo: string;
  channel: Channel;
  amount: number;
  currency: string;
  subject: string;
  expireAt: number;
  notifyUrl: string;
  /** Where the shopper pays (the sandbox's own page), under the sandbox's public address. */
  payPath: string;
  /** Stored status; EXPIRED is never stored, it is read from the clock (`tradeStatus`). */
  state: 'WAITING' | 'PAID' | 'CLOSED';
  paidAt: number | null;
}

export interface Refund {
  refundNo: string;
  channelOrderNo: string;
  amount: number;
  status: RefundStatus;
  createdAt: number;
}

export interface CreateTradeInput {
  channelOrderNo: string;
  merchantOrderNo: string;
  channel: string;
  amount: number;
  currency: string;
  subject: string;
  expireAt: number;
  notifyUrl: string;
}

export interface CreateRefundInput {
  refundNo: string;
  channelOrderNo: string;
  amount: number;
}

export type PspErrorCode =
  | 'UNKNOWN_CHANNEL'
  | 'TRADE_CONFLICT'
  | 'TRADE_NOT_FOUND'
  | 'TRADE_PAID'
  | 'CLOSE_NOT_SUPPORTED'
  | 'TRADE_CLOSED'
  | 'TRADE_EXPIRED'
  | 'ALREADY_PAID'
  | 'REFUND_CONFLICT'
  | 'REFUND_NOT_FOUND'
  | 'TRADE_NOT_PAID'
  | 'REFUND_EXCEEDS_AMOUNT';

export interface PspFailure {
  ok: false;
  code: PspErrorCode;
  message: string;
  /** The trade the refusal is about, when the caller needs its state (a close that found it paid). */
  trade?: Trade;
}

export type PspResult<T> = ({ ok: true } & T) | PspFailure;

const fail = (code: PspErrorCode, message: string, trade?: Trade): PspFailure => ({
  ok: false,
  code,
  message,
  trade,
});

export function isChannel(channel: string): channel is Channel {
  return (CHANNELS as readonly string[]).includes(channel);
}

/** Only the voucher cannot be closed: it is paid later, offline. */
export function isClosable(channel: Channel): boolean {
  return channel !== 'sandbox-voucher';
}

export function tradeStatus(trade: Trade, now: number): TradeStatus {
  if (trade.state === 'WAITING' && now >= trade.expireAt) return 'EXPIRED';
  return trade.state;
}

/** Every channel's shopper pays on the same page: the wallet's opened, the QR code's scanned. */
function payPathFor(channelOrderNo: string): string {
  return `/pay/${encodeURIComponent(channelOrderNo)}`;
}

export class PspState {
  private readonly trades = new Map<string, Trade>();
  private readonly refunds = new Map<string, Refund>();

  /** Idempotent by channelOrderNo: a repeat returns the first trade; one that disagrees on money is a conflict. */
  createTrade(input: CreateTradeInput): PspResult<{ trade: Trade; created: boolean }> {
    const { channel } = input;
    if (!isChannel(channel)) return fail('UNKNOWN_CHANNEL', `unknown channel "${channel}"`);
    const existing = this.trades.get(input.channelOrderNo);
    if (existing) {
      const differs = (['merchantOrderNo', 'channel', 'amount', 'currency'] as const).filter(
        (field) => existing[field] !== input[field],
      );
      if (differs.length > 0) {
        return fail(
          'TRADE_CONFLICT',
          `trade ${input.channelOrderNo} exists with another ${differs.join(', ')}`,
        );
      }
      return { ok: true, trade: existing, created: false };
    }
    const trade: Trade = {
      ...input,
      channel,
      tradeNo: `sbx_${randomBytes(8).toString('hex')}`,
      payPath: payPathFor(input.channelOrderNo),
      state: 'WAITING',
      paidAt: null,
    };
    this.trades.set(trade.channelOrderNo, trade);
    return { ok: true, trade, created: true };
  }

  getTrade(channelOrderNo: string): PspResult<{ trade: Trade }> {
    const trade = this.trades.get(channelOrderNo);
    return trade ? { ok: true, trade } : fail('TRADE_NOT_FOUND', `no trade ${channelOrderNo}`);
  }

  /** The shopper pays: only a WAITING trade before its expiry can take money. */
  payTrade(channelOrderNo: string, now: number): PspResult<{ trade: Trade }> {
    const trade = this.trades.get(channelOrderNo);
    if (!trade) return fail('TRADE_NOT_FOUND', `no trade ${channelOrderNo}`);
    const status = tradeStatus(trade, now);
    switch (status) {
      case 'WAITING':
        trade.state = 'PAID';
        trade.paidAt = now;
        return { ok: true, trade };
      case 'PAID':
        return fail('ALREADY_PAID', `trade ${channelOrderNo} is already paid`, trade);
      case 'CLOSED':
        return fail('TRADE_CLOSED', `trade ${channelOrderNo} is closed`, trade);
      case 'EXPIRED':
        return fail('TRADE_EXPIRED', `trade ${channelOrderNo} expired`, trade);
      default: {
        const unknown: never = status;
        throw new Error(`unknown trade status ${String(unknown)}`);
      }
    }
  }

  /** Idempotent; a WAITING or EXPIRED trade becomes CLOSED so it can never be paid. */
  closeTrade(channelOrderNo: string): PspResult<{ trade: Trade }> {
    const trade = this.trades.get(channelOrderNo);
    if (!trade) return fail('TRADE_NOT_FOUND', `no trade ${channelOrderNo}`);
    if (!isClosable(trade.channel)) {
      return fail('CLOSE_NOT_SUPPORTED', `channel ${trade.channel} cannot close a trade`, trade);
    }
    if (trade.state === 'PAID') return fail('TRADE_PAID', `trade ${channelOrderNo} is already paid`, trade);
    trade.state = 'CLOSED';
    return { ok: true, trade };
  }

  /**
   * Idempotent by refundNo: a repeat returns the first refund, never a second one. The refunds of a
   * trade that have not failed never add up to more than the trade's amount.
   */
  createRefund(input: CreateRefundInput, now: number): PspResult<{ refund: Refund; created: boolean }> {
    const existing = this.refunds.get(input.refundNo);
    if (existing) {
      if (existing.channelOrderNo !== input.channelOrderNo || existing.amount !== input.amount) {
        return fail('REFUND_CONFLICT', `refund ${input.refundNo} exists with another trade or amount`);
      }
      return { ok: true, refund: existing, created: false };
    }
    const trade = this.trades.get(input.channelOrderNo);
    if (!trade) return fail('TRADE_NOT_FOUND', `no trade ${input.channelOrderNo}`);
    if (trade.state !== 'PAID') return fail('TRADE_NOT_PAID', `trade ${input.channelOrderNo} is not paid`);
    const committed = this.refundsOf(trade.channelOrderNo)
      .filter((refund) => refund.status !== 'FAILED')
      .reduce((sum, refund) => sum + refund.amount, 0);
    if (committed + input.amount > trade.amount) {
      return fail(
        'REFUND_EXCEEDS_AMOUNT',
        `refunding ${input.amount} on top of ${committed} would exceed the trade amount ${trade.amount}`,
      );
    }
    const refund: Refund = { ...input, status: 'PROCESSING', createdAt: now };
    this.refunds.set(refund.refundNo, refund);
    return { ok: true, refund, created: true };
  }

  getRefund(refundNo: string): PspResult<{ refund: Refund }> {
    const refund = this.refunds.get(refundNo);
    return refund ? { ok: true, refund } : fail('REFUND_NOT_FOUND', `no refund ${refundNo}`);
  }

  /** A PROCESSING refund reaches its final status once; later calls (or a cleared book) change nothing. */
  settleRefund(refundNo: string, outcome: 'SUCCESS' | 'FAILED'): Refund | undefined {
    const refund = this.refunds.get(refundNo);
    if (refund?.status !== 'PROCESSING') return undefined;
    refund.status = outcome;
    return refund;
  }

  /** Ground truth of money, optionally for one merchant order. */
  ledger(merchantOrderNo?: string): { trades: Trade[]; refunds: Refund[] } {
    const trades = [...this.trades.values()].filter(
      (trade) => merchantOrderNo === undefined || trade.merchantOrderNo === merchantOrderNo,
    );
    const tradeNos = new Set(trades.map((trade) => trade.channelOrderNo));
    const refunds = [...this.refunds.values()].filter((refund) => tradeNos.has(refund.channelOrderNo));
    return { trades, refunds };
  }

  clear(): void {
    this.trades.clear();
    this.refunds.clear();
  }

  private refundsOf(channelOrderNo: string): Refund[] {
    return [...this.refunds.values()].filter((refund) => refund.channelOrderNo === channelOrderNo);
  }
}
