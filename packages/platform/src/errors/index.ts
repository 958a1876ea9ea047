/**
 * Errors say what to do with the message that caused them. Handlers only throw; the consumer
 * wrapper reads the class and decides: retry later, dead-letter, or dead-letter at once.
 */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Retrying will not help; a person must look. */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The message itself is malformed: dead-letter it at once. */
export class InvalidMessageError extends Error {
  override readonly name: string = 'InvalidMessageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A publish that no queue or alternate exchange took. */
export class UnroutableError extends PermanentError {
  constructor(exchange: string, routingKey: string) {
    super(`message to exchange "${exchange}" with routing key "${routingKey}" was unroutable`);
  }
}

/** A server we depend on (Redis, database, broker) did not answer. */
export class DependencyUnavailableError extends TransientError {
  constructor(dependency: string, options?: { cause?: unknown }) {
    super(`${dependency} unavailable`, options);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
