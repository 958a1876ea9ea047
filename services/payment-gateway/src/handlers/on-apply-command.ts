import {
  ApiError,
  applyRequestSchema,
  describeZodError,
  InvalidMessageError,
  TransientError,
  type Broker,
  type Delivery,
} from '@payments/common';
import type { GatewayDeps } from '../deps';
import { toApiError } from '../http/errors';
import { applyPayment } from '../operations/apply-payment';

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
  const { properties } = delivery.message;
  const reply = async (answer: { status: number; body: unknown }) => {
    if (!properties.replyTo) return;
    await broker.publish('', properties.replyTo, answer, {
      correlationId: properties.correlationId,
      mandatory: false,
    });
  };
  const messageId = properties.messageId as string | undefined;
  if (!messageId) {
    await reply({
      status: 400,
      body: new ApiError('VALIDATION_FAILED', 'messageId: required (it is the idempotency key)').toBody(),
    });
    throw new InvalidMessageError('apply command without messageId');
  }
  const stored = await deps.repository.findApplyAnswer(messageId);
  if (stored) return reply(stored);

  const parsed = applyRequestSchema.safeParse(delivery.body);
  if (!parsed.success) {
    const message = describeZodError(parsed.error);
    await reply({ status: 400, body: new ApiError('VALIDATION_FAILED', message).toBody() });
    deps.metrics.applied.inc({ result: 'VALIDATION_FAILED' });
    throw new InvalidMessageError(message);
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
