/** What the merchant sends WeChat Pay (APIv3), as zod schemas. */
import { z } from 'zod';
import { parseRfc3339 } from '@payments/providers';

const fen = z.number().int().min(1).max(10_000_000_000);
const outTradeNo = z.string().regex(/^[A-Za-z0-9_\-*|]{6,32}$/, '6 to 32 of letters, digits, _-*|');
const outRefundNo = z.string().regex(/^[A-Za-z0-9_\-|*@]{1,64}$/, '1 to 64 of letters, digits, _-|*@');
const notifyUrl = z
  .url()
  .refine((text) => !new URL(text).search, 'must not carry a query string')
  .refine((text) => /^https?:/.test(text), 'must be an http(s) URL');
const rfc3339 = z.string().transform((text, ctx) => {
  try {
    return parseRfc3339(text).getTime();
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
export const nativeBody = z.object({
  appid: z.string().min(1).max(32),
  mchid: z.string().min(1).max(32),
  description: z.string().min(1).max(127),
  out_trade_no: outTradeNo,
  time_expire: rfc3339.optional(),
  attach: z.string().max(128).optional(),
  notify_url: notifyUrl,
  amount: z.object({ total: fen, currency: z.literal('CNY').optional() }),
});
export const closeBody = z.object({ mchid: z.string().min(1) });
export const abnormalRefundBody = z.object({
  out_refund_no: outRefundNo,
  type: z.enum(['USER_BANK_CARD', 'MERCHANT_BANK_CARD']),
  bank_type: z.string().min(1).max(16).optional(),
  bank_account: z.string().min(1).max(1024).optional(),
  real_name: z.string().min(1).max(1024).optional(),
});
export const refundBody = z.object({
  out_trade_no: outTradeNo,
  out_refund_no: outRefundNo,
  reason: z.string().max(80).optional(),
  notify_url: notifyUrl.optional(),
  amount: z.object({ refund: fen, total: fen, currency: z.literal('CNY') }),
});
