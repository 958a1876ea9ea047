/** What the app sends Alipay, as zod schemas: the v3 API's bodies, and page pay's biz_content. */
import { z } from 'zod';
import { fromDecimalString } from '@payments/core';
import { parseChinaDateTime } from '@payments/providers';
import type { NewTrade, Product } from './state';

export const CNY = 'CNY';
const yuan = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,2})?$/, 'must be yuan with at most two decimals')
  .transform((text) => fromDecimalString(text, CNY))
  .refine((fen) => fen >= 1 && fen <= 10_000_000_000, 'must be between 0.01 and 100000000.00');
const outTradeNo = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-", at most 64');
const chinaTime = z.string().transform((text, ctx) => {
  try {
    return parseChinaDateTime(text).getTime();
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
const tradeFields = {
  out_trade_no: outTradeNo,
  total_amount: yuan,
  subject: z.string().min(1).max(256),
  time_expire: chinaTime.optional(),
  merchant_order_no: z.string().max(32).optional(),
};
export const precreateBody = z.object({ ...tradeFields, notify_url: z.url().optional() });
export const pageBizContent = z.object({ ...tradeFields, product_code: z.literal('FAST_INSTANT_TRADE_PAY') });
export const byTrade = z.object({ out_trade_no: outTradeNo });
export const refundBody = z.object({
  out_trade_no: outTradeNo,
  refund_amount: yuan,
  out_request_no: z.string().min(1).max(64),
  refund_reason: z.string().optional(),
});
export const refundQueryBody = z.object({
  out_trade_no: outTradeNo,
  out_request_no: z.string().min(1).max(64),
});

/** A trade as precreate's body or page pay's biz_content describes it. */
export function newTrade(
  fields: z.infer<z.ZodObject<typeof tradeFields>>,
  product: Product,
  notifyUrl: string | undefined,
  returnUrl: string | undefined,
): NewTrade {
  return {
    outTradeNo: fields.out_trade_no,
    product,
    merchantOrderNo: fields.merchant_order_no ?? null,
    amount: fields.total_amount,
    subject: fields.subject,
    timeExpire: fields.time_expire ?? null,
    notifyUrl: notifyUrl ?? null,
    returnUrl: returnUrl ?? null,
  };
}
