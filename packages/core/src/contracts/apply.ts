import { z } from 'zod';
import { isIsoCurrency } from '../money/currencies';

/** Where a payment application arrives by message: exchange `payments.commands`, this routing key. */
export const APPLY_ROUTING_KEY = 'payment.apply';

/** `messageId` of a queued apply: its idempotency key, kept whole. */
export const MESSAGE_ID_MAX_LENGTH = 128;

export const merchantOrderNoSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" and "-"');

/** Body of `POST /v1/payments` and of a `payment.apply` command (CONTRACT 3). */
export const applyRequestSchema = z.strictObject({
  merchantOrderNo: merchantOrderNoSchema,
  amount: z.number().int('must be an integer of minor units').min(1).max(1e12),
  currency: z.string().refine(isIsoCurrency, 'must be an ISO 4217 currency code such as CNY'),
  channel: z.string().min(1).max(32),
  subject: z.string().min(1).max(128),
  expireAt: z.iso.datetime({ offset: true }).optional(),
  // The cashier page sends the shopper there: a web address, never `javascript:` or `data:`.
  returnUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .max(512)
    .optional(),
});
export type ApplyRequest = z.infer<typeof applyRequestSchema>;

export const PAY_ORDER_STATUSES = ['UNPAID', 'PAYING', 'PAID', 'CLOSED'] as const;
export type PayOrderStatus = (typeof PAY_ORDER_STATUSES)[number];
export const ATTEMPT_STATUSES = ['PAYING', 'SUCCESS', 'FAILED', 'CLOSED'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];
export const REFUND_REASONS = ['DUPLICATE_PAYMENT', 'PAID_AFTER_CLOSE', 'MANUAL'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];
export const REFUND_STATUSES = [
  'PENDING_APPROVAL',
  'PROCESSING',
  'SUCCESS',
  'FAILED',
  /** Owed back by hand: the provider cannot refund it (CONTRACT 9). */
  'MANUAL_REQUIRED',
] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** Error codes of CONTRACT 3, with their HTTP status. */
export const API_ERRORS = {
  UNAUTHORIZED: 401,
  VALIDATION_FAILED: 400,
  UNKNOWN_CHANNEL: 400,
  UNSUPPORTED_CURRENCY: 400,
  NOT_FOUND: 404,
  ORDER_ALREADY_PAID: 409,
  PAYMENT_IN_PROGRESS: 409,
  ORDER_CLOSED: 410,
  AMOUNT_MISMATCH: 422,
  IDEMPOTENCY_KEY_REUSED: 409,
  CHANNEL_ERROR: 502,
  DEPENDENCY_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ApiErrorBody {
  error: { code: ApiErrorCode | string; message: string };
}

/** A refusal the API answers with its code; thrown by the gateway's domain operations. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.status = API_ERRORS[code];
  }
  toBody(): ApiErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Describes a zod failure as `field: problem; field: problem`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}
