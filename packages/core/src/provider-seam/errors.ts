import type { z } from 'zod';
import { PermanentError, TransientError } from '@payments/platform';

/** The provider failed, timed out, or its breaker is open: try again later. */
export class ChannelUnavailableError extends TransientError {
  override readonly name = 'ChannelUnavailableError';
  /**
   * False only when the request certainly never left us (the breaker was open). Otherwise the
   * provider may have acted on it (a timeout, a cut connection, a 5xx): its outcome is unknown.
   */
  readonly mayHaveReachedProvider: boolean;
  constructor(message: string, options?: { cause?: unknown; mayHaveReachedProvider?: boolean }) {
    super(message, options);
    this.mayHaveReachedProvider = options?.mayHaveReachedProvider ?? true;
  }
}

/** The provider refused the request itself (4xx other than the expected ones). */
export class ChannelRejectedError extends PermanentError {
  override readonly name = 'ChannelRejectedError';
}

/** Errors from a breaker (open: nothing was sent; timeout: the call may still land) as ours. */
export function breakerFailure(error: unknown): ChannelUnavailableError {
  if (error instanceof ChannelUnavailableError) return error;
  return new ChannelUnavailableError(`provider call failed: ${(error as Error).message}`, {
    cause: error,
    mayHaveReachedProvider: (error as { code?: string }).code !== 'EOPENBREAKER',
  });
}

/**
 * A provider's answer as `schema` reads it. One we cannot read is a provider failure: its outcome
 * is unknown, never guessed. `what` names the call (`"Alipay query"`).
 */
export function readAnswer<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new ChannelUnavailableError(`${what} answer unreadable: ${parsed.error.message}`);
  return parsed.data;
}
