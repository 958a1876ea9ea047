/**
 * WeChat Pay's channel `wechat-native` (Native payment: a `code_url` QR code the shopper scans
 * in WeChat). Calls are keyed by our out_trade_no and out_refund_no; WeChat Pay's transaction_id
 * is taken from its answers. Money crosses as integer fen.
 */
import { z } from 'zod';
import {
  type ProviderOutcome,
  ChannelRejectedError,
  ChannelUnavailableError,
  readAnswer,
  type AttemptRef,
  type CloseResult,
  type CreatedTrade,
  type CreateTradeRequest,
  type Money,
  type PaymentChannel,
  type ProviderRefundStatus,
  type RefundRequest,
} from '@payments/core';
import { chinaRfc3339 } from '../china-time';
import type { WechatAnswer, WechatpayClient } from './client';
import {
  meaningOfWechatClose,
  meaningOfWechatError,
  WECHATPAY_CURRENCY,
  wechatTradeOutcome,
  wechatTransaction,
} from './status';

import { refundDetail, type AbnormalRefundPayout, type WechatRefundDetail } from './refund-answer';
import { WECHATPAY_CHANNELS } from './settings';

export { WECHATPAY_CHANNELS };
export type { AbnormalRefundPayout, WechatRefundDetail };

const nativeAnswer = z.object({ code_url: z.string().min(1) });
const read = <T>(schema: z.ZodType<T>, data: unknown, what: string): T =>
  readAnswer(schema, data, `WeChat Pay ${what}`);

function refused(what: string, answer: Extract<WechatAnswer, { ok: false }>): ChannelRejectedError {
  return new ChannelRejectedError(`WeChat Pay refused the ${what}: ${answer.code} ${answer.message}`);
}

function fen(money: Money, what: string): number {
  if (money.currency !== WECHATPAY_CURRENCY)
    throw new ChannelRejectedError(
      `WeChat Pay takes ${WECHATPAY_CURRENCY} only, not ${money.currency} (${what})`,
    );
  return money.amount;
}

/** WeChat Pay's `description` is at most 127 characters. */
const description = (subject: string) => [...subject].slice(0, 127).join('');

export class WechatNativeChannel implements PaymentChannel {
  readonly name = 'wechat-native';
  readonly label = 'WeChat Pay';
  readonly provider = 'wechatpay';
  readonly notifyRoute = 'wechatpay';
  readonly closable = true;
  readonly refundable = true;
  readonly findsTradeBy = 'OUR_NUMBER';
  readonly manualRefundAdvice =
    "WeChat Pay holds the money (ABNORMAL: e.g. the shopper's card is closed). Apply for it to the shopper's or the merchant's bank card (POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund, or the merchant platform), or pay it back outside and record it with payctl refund settle-manually; never send a second refund";

  constructor(private readonly client: WechatpayClient) {}

  supportsCurrency(currency: string): boolean {
    return currency === WECHATPAY_CURRENCY;
  }

  async createTrade(request: CreateTradeRequest): Promise<CreatedTrade> {
    const answer = await this.client.call({
      method: 'POST',
      path: 'v3/pay/transactions/native',
      body: {
        appid: this.client.appid,
        mchid: this.client.mchid,
        description: description(request.subject),
        out_trade_no: request.channelOrderNo,
        // The order's validity passed on (seed rule): WeChat Pay refuses payment after it.
        time_expire: chinaRfc3339(request.expireAt),
        // The shop's own order number, returned with the transaction (at most 128).
        attach: request.merchantOrderNo.slice(0, 128),
        notify_url: request.notifyUrl,
        amount: { total: fen(request.money, 'trade'), currency: WECHATPAY_CURRENCY },
      },
    });
    if (!answer.ok) {
      // WeChat Pay already has this order from a create whose answer we lost, and it was paid or
      // closed since: what happened is the poller's to find out, never a failed attempt.
      if (meaningOfWechatError(answer.code) === 'ORDER_SETTLED')
        throw new ChannelUnavailableError(
          `WeChat Pay already has order ${request.channelOrderNo}: ${answer.code}`,
        );
      throw refused('order', answer);
    }
    const created = read(nativeAnswer, answer.data, 'native order');
    return { payAction: { type: 'qr', content: created.code_url }, providerTradeNo: null };
  }

  async queryTrade({ channelOrderNo }: AttemptRef): Promise<ProviderOutcome | 'NOT_FOUND'> {
    const answer = await this.client.call({
      method: 'GET',
      path: 'v3/pay/transactions/out-trade-no/{out_trade_no}',
      pathParams: { out_trade_no: channelOrderNo },
      query: { mchid: this.client.mchid },
    });
    if (!answer.ok) {
      if (meaningOfWechatError(answer.code) === 'NOT_FOUND') return 'NOT_FOUND';
      throw refused('order query', answer);
    }
    const trade = read(wechatTransaction, answer.data, 'order query');
    if (trade.out_trade_no !== channelOrderNo || trade.mchid !== this.client.mchid)
      throw new ChannelUnavailableError(
        `WeChat Pay answered for ${trade.mchid}/${trade.out_trade_no}, not ${channelOrderNo}`,
      );
    try {
      return wechatTradeOutcome(trade);
    } catch (error) {
      throw new ChannelUnavailableError(
        `WeChat Pay order query answer unreadable: ${(error as Error).message}`,
      );
    }
  }

  /**
   * Only `204` closed the order. `202 USER_PAYING`: the shopper is entering the password, nothing is
   * closed and the payment may still complete (IN_PAYMENT: the attempt stays in flight and polled).
   * `FREQUENCY_LIMITED` and `SYSTEM_ERROR` are provider failures (the client throws them as
   * `ChannelUnavailableError`): the close is retried.
   */
  async closeTrade(attempt: AttemptRef): Promise<CloseResult> {
    const answer = await this.client.call({
      method: 'POST',
      path: 'v3/pay/transactions/out-trade-no/{out_trade_no}/close',
      pathParams: { out_trade_no: attempt.channelOrderNo },
      body: { mchid: this.client.mchid },
    });
    if (answer.ok) {
      const meaning = meaningOfWechatClose(answer.status, answer.data);
      switch (meaning) {
        case 'CLOSED':
          return { result: 'CLOSED' };
        case 'IN_PAYMENT':
          return { result: 'IN_PAYMENT' };
        case 'UNREADABLE':
          throw new ChannelUnavailableError(
            `WeChat Pay answered a close with HTTP ${answer.status}, not 204: not taken as closed`,
          );
        default: {
          const unknown: never = meaning;
          throw new Error(`unknown close meaning ${String(unknown)}`);
        }
      }
    }
    const meaning = meaningOfWechatError(answer.code);
    if (meaning === 'NOT_FOUND') return { result: 'NOT_FOUND' };
    // The request itself refused (a bad parameter, key or merchant): nothing was closed.
    if (meaning !== 'ORDER_SETTLED') throw refused('close', answer);
    // Paid (ORDERPAID) or closed (ORDER_CLOSED): the (signed) query says which.
    const outcome = await this.queryTrade(attempt);
    if (outcome === 'NOT_FOUND') return { result: 'NOT_FOUND' };
    switch (outcome.status) {
      case 'SUCCESS':
        return { result: 'ALREADY_PAID', outcome };
      case 'CLOSED':
      case 'FAILED':
        return { result: 'CLOSED' };
      case 'PAYING': // the refusal and the query disagree: ask again later
        throw new ChannelUnavailableError(
          `WeChat Pay refused to close an unpaid order: ${answer.code} ${answer.message}`,
        );
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
      }
    }
  }

  async refund(request: RefundRequest): Promise<ProviderRefundStatus> {
    const answer = await this.client.call({
      method: 'POST',
      path: 'v3/refund/domestic/refunds',
      body: {
        out_trade_no: request.attempt.channelOrderNo,
        // Our refundNo is the idempotency key: the same request again refunds nothing more.
        out_refund_no: request.refundNo,
        reason: 'duplicate payment',
        notify_url: request.notifyUrl,
        amount: {
          refund: fen(request.money, 'refund'),
          total: fen(request.paid, 'paid total'),
          currency: WECHATPAY_CURRENCY,
        },
      },
    });
    if (!answer.ok) throw refused('refund', answer);
    // Usually PROCESSING: its outcome comes by REFUND.* notification or by the refunder's query.
    return refundDetail(answer.data, request.refundNo, 'refund').status;
  }

  /** By out_refund_no alone: WeChat Pay needs no order to find a refund. */
  async queryRefund(refundNo: string, _attempt?: AttemptRef): Promise<ProviderRefundStatus | 'NOT_FOUND'> {
    const detail = await this.queryRefundDetail(refundNo);
    return detail === 'NOT_FOUND' ? detail : detail.status;
  }

  /** The refund as WeChat Pay knows it, with its `refund_id` (what payctl needs to apply for an abnormal one). */
  async queryRefundDetail(refundNo: string): Promise<WechatRefundDetail | 'NOT_FOUND'> {
    const answer = await this.client.call({
      method: 'GET',
      path: 'v3/refund/domestic/refunds/{out_refund_no}',
      pathParams: { out_refund_no: refundNo },
    });
    if (!answer.ok) {
      if (meaningOfWechatError(answer.code) === 'NOT_FOUND') return 'NOT_FOUND';
      throw refused('refund query', answer);
    }
    return refundDetail(answer.data, refundNo, 'refund query');
  }

  /**
   * WeChat Pay's abnormal-refund application (发起异常退款, `POST /v3/refund/domestic/refunds/
   * {refund_id}/apply-abnormal-refund`) for a refund that ended ABNORMAL: its money is paid out to
   * `payout` instead, PROCESSING until WeChat Pay notifies the outcome. A person decides to call it
   * (payctl); the same application again answers the refund as it is.
   */
  async applyAbnormalRefund(
    refundNo: string,
    providerRefundId: string,
    payout: AbnormalRefundPayout,
  ): Promise<WechatRefundDetail> {
    const answer = await this.client.call({
      method: 'POST',
      path: 'v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund',
      pathParams: { refund_id: providerRefundId },
      body: {
        out_refund_no: refundNo,
        type: payout.type,
        ...(payout.type === 'USER_BANK_CARD'
          ? {
              bank_type: payout.bankType,
              // Sensitive fields travel encrypted with the key our Wechatpay-Serial names.
              bank_account: this.client.encryptSensitive(payout.bankAccount),
              real_name: this.client.encryptSensitive(payout.realName),
            }
          : {}),
      },
    });
    if (!answer.ok) throw refused('abnormal refund', answer);
    return refundDetail(answer.data, refundNo, 'abnormal refund');
  }
}
