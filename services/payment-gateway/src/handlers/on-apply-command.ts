import { createHash } from 'node:crypto';
import {
  InvalidMessageError,
  TransientError,
  type Broker,
  type DeadLetterInfo,
  type Delivery,
} from '@payments/platform';
import {
  API_ERRORS,
  ApiError,
  applyRequestSchema,
  MESSAGE_ID_MAX_LENGTH,
  describeZodError,
  type ApiErrorCode,
} from '@payments/core';
import type { GatewayDeps } from '../deps';
import { isFinalApplyAnswer } from '../domain/apply-answer';
import { toApiError } from '../http/errors';
import { applyPayment } from '../operations/apply-payment';

type ConsumeMessage = Delivery<unknown>['message'];

/** Answers that mean "try again later": the message is retried instead of answered. */
const RETRY_CODES = new Set(['DEPENDENCY_UNAVAILABLE', 'PAYMENT_IN_PROGRESS', 'INTERNAL']);

/**
 * `payment.apply` by message (CONTRACT 4): the same code path as HTTP. `messageId` is the
 * idempotency key: the first final answer is stored and a repeat gets it again; an answer that
 * says "try again" (`isFinalApplyAnswer`) is sent but not stored, so the repeat applies. With `replyTo`,
 * the answer goes back as `{ status, body }` through the default exchange, without `mandatory`.
 */
export async function onApplyCommand(
  delivery: Delivery<unknown>,
  deps: GatewayDeps,
  broker: Broker,
): Promise<void> {
  const reply = (answer: { status: number; body: unknown }) =>
    replyToRequester(broker, delivery.message, answer);
  const messageId = delivery.message.properties.messageId as string | undefined;
  // Refusals throw InvalidMessageError: the message goes to the dlq and `answerDeadLetteredApply`
  // answers 400, the same way as for a body that is not JSON at all.
  if (!messageId) throw new InvalidMessageError('messageId: required (it is the idempotency key)');
  if (messageId.length > MESSAGE_ID_MAX_LENGTH)
    throw new InvalidMessageError(`messageId: at most ${MESSAGE_ID_MAX_LENGTH} characters`);

  const parsed = applyRequestSchema.safeParse(delivery.body);
  if (!parsed.success) {
    deps.metrics.applied.inc({ result: 'VALIDATION_FAILED' });
    throw new InvalidMessageError(describeZodError(parsed.error));
  }
  const fingerprint = requestFingerprint(parsed.data);
  const found = await deps.repository.findApplyAnswer(messageId);
  // One stored before only final answers were (a 502 of an unknown create outcome) is no answer.
  const stored =
    found && isFinalApplyAnswer({ status: found.status, code: errorCodeOf(found.body) }) ? found : undefined;
  if (stored) {
    // As Stripe does with an idempotency key sent again with other parameters: refuse, never
    // answer one request with another's result.
    const sameRequest =
      stored.requestSha256 === null
        ? stored.merchantOrderNo === parsed.data.merchantOrderNo
        : stored.requestSha256 === fingerprint;
    if (sameRequest) return reply({ status: stored.status, body: stored.body });
    deps.metrics.applied.inc({ result: 'IDEMPOTENCY_KEY_REUSED' });
    const refusal = new ApiError(
      'IDEMPOTENCY_KEY_REUSED',
      `messageId ${messageId} was already used for another request`,
    );
    return reply({ status: refusal.status, body: refusal.toBody() });
  }
  let answer: { status: number; body: unknown; code?: ApiErrorCode };
  try {
    answer = await applyPayment(deps, parsed.data);
    deps.metrics.applied.inc({ result: answer.status === 201 ? 'created' : 'reused' });
  } catch (error) {
    const apiError = toApiError(error);
    deps.metrics.applied.inc({ result: apiError.code });
    if (RETRY_CODES.has(apiError.code)) throw new TransientError(apiError.message, { cause: error });
    answer = { status: apiError.status, body: apiError.toBody(), code: apiError.code };
  }
  if (isFinalApplyAnswer(answer))
    await deps.repository.storeApplyAnswer(messageId, parsed.data.merchantOrderNo, fingerprint, answer);
  await reply({ status: answer.status, body: answer.body });
}

/** The error code of a stored answer's body, if it is an error. */
function errorCodeOf(body: unknown): ApiErrorCode | undefined {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' && code in API_ERRORS ? (code as ApiErrorCode) : undefined;
}

/** SHA-256 of the request's fields in a fixed order: equal for the same request however it was spelled. */
function requestFingerprint(request: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(request)
      .sort()
      .map((key) => [key, request[key]]),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** Replies go to the exact `replyTo` through the default exchange, without `mandatory` (CONTRACT 4). */
async function replyToRequester(
  broker: Broker,
  message: ConsumeMessage,
  answer: { status: number; body: unknown },
): Promise<void> {
  if (!message.properties.replyTo) return;
  await broker.publish('', message.properties.replyTo, answer, {
    correlationId: message.properties.correlationId as string | undefined,
    mandatory: false,
  });
}

/**
 * A dead-lettered apply still gets its answer: 400 for a message refused as invalid (not JSON, a
 * bad field, no messageId), 503 when its retries were spent on a dependency that stayed down.
 */
export async function answerDeadLetteredApply(
  broker: Broker,
  message: ConsumeMessage,
  info: DeadLetterInfo,
): Promise<void> {
  const error =
    info.reason === 'retries-exhausted'
      ? new ApiError('DEPENDENCY_UNAVAILABLE', `not applied after ${info.attempts} tries: ${info.lastError}`)
      : new ApiError('VALIDATION_FAILED', info.lastError);
  await replyToRequester(broker, message, { status: error.status, body: error.toBody() });
}
