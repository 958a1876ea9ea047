/**
 * The merchant API's answers (CONTRACT 3 and 10) as zod schemas: the one source of the OpenAPI
 * document (`openapi.ts`) and of the types the operations build their bodies to, so the document
 * and the answers cannot drift. Requests are validated with the schemas in `@payments/core`
 * (`applyRequestSchema`) and the cashier's (`checkoutRequestSchema`).
 */
import { z } from 'zod';
import {
  API_ERRORS,
  ATTEMPT_STATUSES,
  PAY_ORDER_STATUSES,
  REFUND_REASONS,
  REFUND_STATUSES,
} from '@payments/core';

const isoTime = z.iso.datetime({ offset: true });

export const payActionSchema = z
  .discriminatedUnion('type', [
    z
      .object({ type: z.literal('qr'), content: z.string() })
      .meta({ description: 'Show `content` as a QR code' }),
    z
      .object({ type: z.literal('redirect'), url: z.string() })
      .meta({ description: 'Send the shopper to `url`' }),
  ])
  .meta({
    id: 'PayAction',
    description:
      'What the shop does with the attempt (CONTRACT 9); null until the provider confirmed the create',
  });

export const applyAnswerSchema = z
  .object({
    payOrderNo: z.string(),
    merchantOrderNo: z.string(),
    status: z.enum(PAY_ORDER_STATUSES),
    attempt: z.object({
      channelOrderNo: z.string(),
      channel: z.string(),
      status: z.enum(ATTEMPT_STATUSES),
      payUrl: z.string().nullable(),
      payAction: payActionSchema.nullable(),
      expireAt: isoTime.nullable(),
    }),
    reused: z
      .boolean()
      .meta({ description: 'true: the same channel’s attempt still in flight, returned again' }),
  })
  .meta({ id: 'ApplyAnswer' });
export type ApplyAnswerBody = z.infer<typeof applyAnswerSchema>;

export const paymentViewSchema = z
  .object({
    payOrderNo: z.string(),
    merchantOrderNo: z.string(),
    amount: z.number().int().meta({ description: 'Minor units' }),
    currency: z.string(),
    status: z.enum(PAY_ORDER_STATUSES),
    paidChannelOrderNo: z.string().nullable().meta({ description: 'The payment kept' }),
    paidAt: isoTime.nullable(),
    expireAt: isoTime.nullable(),
    attempts: z.array(
      z.object({
        channelOrderNo: z.string(),
        channel: z.string(),
        status: z.enum(ATTEMPT_STATUSES),
        amount: z.number().int(),
        payUrl: z.string().nullable(),
        payAction: payActionSchema.nullable(),
        providerTradeNo: z.string().nullable(),
        createdAt: isoTime.nullable(),
        updatedAt: isoTime.nullable(),
      }),
    ),
    refunds: z.array(
      z.object({
        refundNo: z.string(),
        channelOrderNo: z.string(),
        reason: z.enum(REFUND_REASONS),
        amount: z.number().int(),
        status: z.enum(REFUND_STATUSES),
        settledManually: z
          .object({ by: z.string().nullable(), at: isoTime.nullable(), reference: z.string().nullable() })
          .nullable()
          .meta({ description: 'Paid back outside the provider, recorded by an operator (CONTRACT 9)' }),
      }),
    ),
  })
  .meta({ id: 'Payment' });
export type PaymentViewBody = z.infer<typeof paymentViewSchema>;

export const checkoutAnswerSchema = z
  .object({
    payOrderNo: z.string(),
    merchantOrderNo: z.string(),
    url: z.string().meta({ description: 'The cashier page of this order: hand it to the shopper' }),
    expiresAt: isoTime,
  })
  .meta({ id: 'CheckoutAnswer' });
export type CheckoutAnswerBody = z.infer<typeof checkoutAnswerSchema>;

export const ERROR_CODES = Object.keys(API_ERRORS) as [
  keyof typeof API_ERRORS,
  ...(keyof typeof API_ERRORS)[],
];

export const apiErrorSchema = z
  .object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }) })
  .meta({ id: 'Error' });
