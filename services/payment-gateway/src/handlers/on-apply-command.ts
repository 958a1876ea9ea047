import {
  ApiError,
  applyRequestSchema,
  describeZodError,
  InvalidMessageError,
  TransientError,
  type Broker,
  type DeadLetterInfo,
  type Delivery,
} from '@payments/common';
import type { GatewayDeps } from '../deps';
import { toApiError } from '../http/errors';
import { applyPayment } from '../operations/apply-payment';

type ConsumeMessage = Delivery<unknown>['message'];

/** Answers that mean "try again later": the message is retried instead of answered. */
const RETRY_CODES = new Set(['DEPENDENCY_UNAVAILABLE', 'PAYMENT_IN_PROGRESS', 'INTERNAL']);

/**
 * `payment.apply` by message (CONTRACT 4): the same code path as HTTP. `messageId` is the
 * idempotency key: the first final answer is stored and a repeat gets it again. With `replyTo`,
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
  const stored = await deps.repository.findApplyAnswer(messageId);
  if (stored) return reply(stored);

  const parsed = applyRequestSchema.safeParse(delivery.body);
  if (!parsed.success) {
    deps.metrics.applied.inc({ result: 'VALIDATION_FAILED' });
    throw new InvalidMessageError(describeZodError(parsed.error));
  }
  let answer: { status: number; body: unknown };
  try {
    answer = await applyPayment(deps, parsed.data);
    deps.metrics.applied.inc({ result: answer.status === 201 ? 'created' : 'reused' });
  } catch (error) {
    const apiError = toApiError(error);
    deps.metrics.applied.inc({ result: apiError.code });
    if (RETRY_CODES.has(apiError.code)) throw new TransientError(apiError.message, { cause: error });
    answer = { status: apiError.status, body: apiError.toBody() };
  }
  await deps.repository.storeApplyAnswer(messageId, parsed.data.merchantOrderNo, answer);
  await reply(answer);
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
