/** A WeChat Pay refund answer (create, query, abnormal-refund application), read for our refund. */
import { z } from 'zod';
import { ChannelUnavailableError, readAnswer, type ProviderRefundStatus } from '@payments/core';
import { wechatRefundOutcome, wechatRefundStatus, type WechatRefundStatus } from './status';

const refundAnswer = z.object({
  refund_id: z.string().min(1),
  out_refund_no: z.string(),
  status: wechatRefundStatus,
  channel: z.string().optional(),
  user_received_account: z.string().optional(),
});

/** One refund as WeChat Pay answers for it (create, query, abnormal-refund application). */
export interface WechatRefundDetail {
  refundNo: string;
  /** WeChat Pay's refund id (`refund_id`): what an abnormal-refund application is addressed to. */
  providerRefundId: string;
  /** WeChat Pay's own word (`ABNORMAL` is ours `MANUAL_REQUIRED`). */
  wechatStatus: WechatRefundStatus;
  status: ProviderRefundStatus;
  /** Where the money goes (`ORIGINAL`; `OTHER_BANKCARD` once an abnormal refund was applied for). */
  channel: string | null;
  userReceivedAccount: string | null;
}

/**
 * Where an ABNORMAL refund's money is paid out instead (WeChat Pay's abnormal-refund `type`): to
 * the shopper's debit card (its bank, number and holder's name, sent encrypted with WeChat Pay's
 * public key), or to the merchant's settlement bank account, to be paid back by the merchant.
 */
export type AbnormalRefundPayout =
  | { type: 'MERCHANT_BANK_CARD' }
  | { type: 'USER_BANK_CARD'; bankType: string; bankAccount: string; realName: string };

/** A refund answer read: for our refund, in WeChat Pay's words and ours. */
export function refundDetail(data: unknown, refundNo: string, what: string): WechatRefundDetail {
  const refund = readAnswer(refundAnswer, data, `WeChat Pay ${what}`);
  if (refund.out_refund_no !== refundNo)
    throw new ChannelUnavailableError(
      `WeChat Pay answered for refund ${refund.out_refund_no}, not ${refundNo}`,
    );
  return {
    refundNo,
    providerRefundId: refund.refund_id,
    wechatStatus: refund.status,
    status: wechatRefundOutcome(refund.status),
    channel: refund.channel ?? null,
    userReceivedAccount: refund.user_received_account ?? null,
  };
}
