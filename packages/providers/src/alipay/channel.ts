/**
 * Alipay's channels: `alipay-qr` (precreate: a QR code the shopper scans) and `alipay-page`
 * (page pay: a page the shopper is sent to). Calls are keyed by our out_trade_no; Alipay's
 * trade_no is taken from its answers. Money crosses as yuan strings, converted exactly.
 */
import { z } from 'zod';
import {
  type ProviderOutcome,
  toDecimalString,
  ChannelRejectedError,
  ChannelUnavailableError,
  readAnswer,
  type AttemptRef,
  type CloseResult,
  type CreatedTrade,
  type CreateTradeRequest,
  type PaymentChannel,
  type ProviderRefundStatus,
  type RefundRequest,
} from '@payments/core';
import { chinaDateTime } from '../china-time';
import type { AlipayAnswer, AlipayClient } from './client';
import { ALIPAY_CURRENCY, alipayTradeOutcome, alipayTradeStatus, meaningOfAlipayError } from './status';

import { ALIPAY_CHANNELS } from './settings';

export { ALIPAY_CHANNELS };
export type AlipayChannelName = (typeof ALIPAY_CHANNELS)[number];

const precreateAnswer = z.object({ out_trade_no: z.string(), qr_code: z.string().min(1) });
const queryAnswer = z.object({
  trade_no: z.string().optional(),
  out_trade_no: z.string(),
  trade_status: alipayTradeStatus,
  total_amount: z.string(),
  send_pay_date: z.string().optional(),
});
const refundAnswer = z.object({ fund_change: z.enum(['Y', 'N']).optional() });
const refundQueryAnswer = z.object({
  out_request_no: z.string().optional(),
  refund_status: z.string().optional(),
  refund_amount: z.string().optional(),
});

const read = <T>(schema: z.ZodType<T>, data: unknown, what: string): T =>
  readAnswer(schema, data, `Alipay ${what}`);

function refused(what: string, answer: Extract<AlipayAnswer, { ok: false }>): ChannelRejectedError {
  return new ChannelRejectedError(`Alipay refused the ${what}: ${answer.code} ${answer.message}`);
}

export class AlipayChannel implements PaymentChannel {
  readonly provider = 'alipay';
  readonly notifyRoute = 'alipay';
  readonly closable = true;
  readonly refundable = true;
  readonly findsTradeBy = 'OUR_NUMBER';
  readonly label: string;

  constructor(
    readonly name: AlipayChannelName,
    private readonly client: AlipayClient,
  ) {
    this.label = name === 'alipay-qr' ? 'Alipay (scan a code)' : 'Alipay';
  }

  supportsCurrency(currency: string): boolean {
    return currency === ALIPAY_CURRENCY;
  }

  async createTrade(request: CreateTradeRequest): Promise<CreatedTrade> {
    const trade = {
      out_trade_no: request.channelOrderNo,
      total_amount: toDecimalString(request.money.amount, ALIPAY_CURRENCY),
      subject: request.subject,
      // The order's validity passed on (seed rule): Alipay refuses payment after it.
      time_expire: chinaDateTime(request.expireAt),
      // The shop's own order number, for Alipay's merchant portal (and the sandbox's ledger); at most 32.
      ...(request.merchantOrderNo.length <= 32 ? { merchant_order_no: request.merchantOrderNo } : {}),
    };
    if (this.name === 'alipay-page') {
      const url = this.client.pageUrl(
        { ...trade, product_code: 'FAST_INSTANT_TRADE_PAY' },
        request.notifyUrl,
        request.returnUrl,
      );
      return { payAction: { type: 'redirect', url }, providerTradeNo: null };
    }
    const answer = await this.client.post('/v3/alipay/trade/precreate', {
      ...trade,
      notify_url: request.notifyUrl,
    });
    if (!answer.ok) {
      // Alipay already has this trade from a create whose answer we lost, and it was paid or
      // closed since: what happened is the poller's to find out, never a failed attempt.
      if (meaningOfAlipayError(answer.code) === 'TRADE_EXISTS')
        throw new ChannelUnavailableError(
          `Alipay already has trade ${request.channelOrderNo}: ${answer.code}`,
        );
      throw refused('trade', answer);
    }
    const created = read(precreateAnswer, answer.data, 'precreate');
    return { payAction: { type: 'qr', content: created.qr_code }, providerTradeNo: null };
  }

  async queryTrade({ channelOrderNo }: AttemptRef): Promise<ProviderOutcome | 'NOT_FOUND'> {
    const answer = await this.client.post('/v3/alipay/trade/query', { out_trade_no: channelOrderNo });
    if (!answer.ok) {
      if (meaningOfAlipayError(answer.code) === 'NOT_FOUND') return 'NOT_FOUND';
      throw refused('trade query', answer);
    }
    const trade = read(queryAnswer, answer.data, 'query');
    if (trade.out_trade_no !== channelOrderNo)
      throw new ChannelUnavailableError(`Alipay answered for ${trade.out_trade_no}, not ${channelOrderNo}`);
    return alipayTradeOutcome({ ...trade, paid_at: trade.send_pay_date });
  }

  async closeTrade(attempt: AttemptRef): Promise<CloseResult> {
    const answer = await this.client.post('/v3/alipay/trade/close', { out_trade_no: attempt.channelOrderNo });
    if (answer.ok) return { result: 'CLOSED' };
    switch (meaningOfAlipayError(answer.code)) {
      case 'NOT_FOUND':
        return { result: 'NOT_FOUND' };
      case 'WRONG_STATUS': {
        // Paid, or closed already: the (signed) query says which.
        const outcome = await this.queryTrade(attempt);
        if (outcome === 'NOT_FOUND') return { result: 'NOT_FOUND' };
        if (outcome.status === 'SUCCESS') return { result: 'ALREADY_PAID', outcome };
        if (outcome.status === 'CLOSED') return { result: 'CLOSED' };
        throw new ChannelUnavailableError(`Alipay refused to close a trade it reports ${outcome.status}`);
      }
      default:
        throw refused('close', answer);
    }
  }

  async refund(request: RefundRequest): Promise<ProviderRefundStatus> {
    const answer = await this.client.post('/v3/alipay/trade/refund', {
      out_trade_no: request.attempt.channelOrderNo,
      refund_amount: toDecimalString(request.money.amount, ALIPAY_CURRENCY),
      // Our refundNo is the idempotency key: the same request again refunds nothing more.
      out_request_no: request.refundNo,
      refund_reason: 'duplicate payment',
    });
    if (!answer.ok) throw refused('refund', answer);
    // Money moved now; "N" is a repeat of a refund already made (or not made): the query tells.
    if (read(refundAnswer, answer.data, 'refund').fund_change === 'Y') return 'SUCCESS';
    const status = await this.queryRefund(request.refundNo, request.attempt);
    return status === 'NOT_FOUND' ? 'PROCESSING' : status;
  }

  async queryRefund(refundNo: string, attempt: AttemptRef): Promise<ProviderRefundStatus | 'NOT_FOUND'> {
    const answer = await this.client.post('/v3/alipay/trade/fastpay/refund/query', {
      out_trade_no: attempt.channelOrderNo,
      out_request_no: refundNo,
    });
    if (!answer.ok) {
      if (meaningOfAlipayError(answer.code) === 'NOT_FOUND') return 'NOT_FOUND';
      throw refused('refund query', answer);
    }
    const refund = read(refundQueryAnswer, answer.data, 'refund query');
    // Only REFUND_SUCCESS is money returned. No refund_status means "not received, or failed"
    // (the current field doc; the older "a refund_amount without status is a success" is
    // superseded): the refunder sends the same out_request_no again, then holds it for a person.
    return refund.refund_status === 'REFUND_SUCCESS' ? 'SUCCESS' : 'NOT_FOUND';
  }
}
