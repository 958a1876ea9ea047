import type { ApiErrorCode } from '@payments/core';

/**
 * Whether an apply's answer is final, so that a repeat of the same request may be given it again
 * (the queued apply's `messageId`). A final answer says what is: the attempt, or a refusal that
 * another try of the same request would meet again. The others say "try again": remembered, they
 * would refuse that try forever (a `502` of an unknown create outcome tells the sender to apply
 * again, and the next apply finishes the create). Every code is named: a new one must be decided.
 */
const FINAL: Record<ApiErrorCode, boolean> = {
  VALIDATION_FAILED: true,
  UNKNOWN_CHANNEL: true,
  UNSUPPORTED_CURRENCY: true,
  ORDER_ALREADY_PAID: true,
  ORDER_CLOSED: true,
  AMOUNT_MISMATCH: true,
  // Not reached by an apply, but as final as a 400 if it were.
  UNAUTHORIZED: true,
  NOT_FOUND: true,
  IDEMPOTENCY_KEY_REUSED: true,
  // The order lock was busy, the provider did not confirm (or refused for now), a dependency was
  // down, or we failed: the same request may well succeed next time.
  PAYMENT_IN_PROGRESS: false,
  CHANNEL_ERROR: false,
  DEPENDENCY_UNAVAILABLE: false,
  INTERNAL: false,
};

export function isFinalApplyAnswer(answer: { status: number; code?: ApiErrorCode }): boolean {
  if (answer.code === undefined) return answer.status === 200 || answer.status === 201;
  return FINAL[answer.code];
}
