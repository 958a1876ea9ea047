import { DependencyUnavailableError, TransientError } from '@payments/platform';
import { ApiError } from '@payments/core';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_ACCESS_DENIED_ERROR',
]);

/** True when the error means Redis or the database is down (fail closed: 503). */
export function isDependencyDown(error: unknown): boolean {
  if (error instanceof DependencyUnavailableError) return true;
  const candidate = error as {
    code?: string;
    driverError?: { code?: string };
    message?: string;
    name?: string;
  };
  const code = candidate.code ?? candidate.driverError?.code;
  if (code && CONNECTION_CODES.has(code)) return true;
  if (candidate.name === 'MaxRetriesPerRequestError') return true;
  return /Connection is closed|Stream isn't writeable|connect ECONNREFUSED|Pool is closed|Can't add new command when connection is in closed state/.test(
    candidate.message ?? '',
  );
}

/** Maps any error to the API's status and error body. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (isDependencyDown(error))
    return new ApiError(
      'DEPENDENCY_UNAVAILABLE',
      'a dependency (Redis or the database) is unavailable; try again',
    );
  if (error instanceof TransientError) return new ApiError('DEPENDENCY_UNAVAILABLE', error.message);
  return new ApiError('INTERNAL', 'internal error');
}
