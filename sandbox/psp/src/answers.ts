/** What the PSP answers: its views of trades and refunds, and its errors with their HTTP statuses. */
import type { FastifyReply } from 'fastify';
import { tradeStatus, type PspErrorCode, type Refund, type Trade } from './state';

export type ErrorCode =
  PspErrorCode | 'UNAUTHORIZED' | 'INVALID_REQUEST' | 'SANDBOX_FAULT' | 'NOT_FOUND' | 'INTERNAL';

export function httpStatus(code: PspErrorCode): number {
  switch (code) {
    case 'UNKNOWN_CHANNEL':
      return 400;
    case 'TRADE_NOT_FOUND':
    case 'REFUND_NOT_FOUND':
      return 404;
    case 'CLOSE_NOT_SUPPORTED':
      return 422;
    case 'TRADE_CONFLICT':
    case 'TRADE_PAID':
    case 'TRADE_CLOSED':
    case 'TRADE_EXPIRED':
    case 'ALREADY_PAID':
    case 'REFUND_CONFLICT':
    case 'TRADE_NOT_PAID':
    case 'REFUND_EXCEEDS_AMOUNT':
      return 409;
    default: {
      const unknown: never = code;
      throw new Error(`unmapped error code ${String(unknown)}`);
    }
  }
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function tradeView(trade: Trade, now: number, base: string) {
  return {
    channelOrderNo: trade.channelOrderNo,
    tradeNo: trade.tradeNo,
    merchantOrderNo: trade.merchantOrderNo,
    channel: trade.channel,
    amount: trade.amount,
    currency: trade.currency,
    status: tradeStatus(trade, now),
    payUrl: `${base}${trade.payPath}`,
    paidAt: iso(trade.paidAt),
    expireAt: iso(trade.expireAt),
  };
}

export function refundView(refund: Refund) {
  return {
    refundNo: refund.refundNo,
    channelOrderNo: refund.channelOrderNo,
    amount: refund.amount,
    status: refund.status,
    createdAt: iso(refund.createdAt),
  };
}

export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  extra: object = {},
) {
  return reply.code(status).send({ error: { code, message }, ...extra });
}
