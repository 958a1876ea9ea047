/** Stripe's API errors and the form parameters it reads: each reader throws Stripe's error for a bad one. */
import type { FormValue } from './form';

/** A Stripe API error: `{ error: { type, code, message, param } }` with its HTTP status. */
export class ApiFailure {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly message: string,
    readonly code?: string,
    readonly param?: string,
  ) {}
}
export const invalid = (message: string, code?: string, param?: string) =>
  new ApiFailure(400, 'invalid_request_error', message, code, param);
export const missing = (kind: string, id: string, param = 'id') =>
  new ApiFailure(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);

export type Answer = {
  status: number;
  body: unknown;
  /** The answer is kept under its key, but never sent (the `createAnswerLostRate` fault). */
  lost?: boolean;
};

/** What Stripe keeps under an Idempotency-Key: the first request's endpoint and parameters, and its answer. */
export interface SavedAnswer {
  fingerprint: string;
  answer: Answer;
  requestId: string;
  savedAtS: number;
}

/** Parameters in one canonical text (object keys sorted): the same parameters, the same text. */
export function canonical(value: FormValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(value[key]!)}`)
    .join(',')}}`;
}

export const text = (value: FormValue | undefined, param: string, required = true): string | undefined => {
  if (value === undefined) {
    if (required) throw invalid(`Missing required param: ${param}.`, 'parameter_missing', param);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(`Invalid string: ${param}`, 'parameter_invalid_string', param);
  return value;
};
export const integer = (value: FormValue | undefined, param: string): number => {
  const raw = text(value, param)!;
  if (!/^\d{1,12}$/.test(raw)) throw invalid(`Invalid integer: ${raw}`, 'parameter_invalid_integer', param);
  return Number(raw);
};
export const record = (value: FormValue | undefined, param: string): Record<string, string> => {
  if (value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(`Invalid hash: ${param}`, undefined, param);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, text(item, `${param}[${key}]`)!]),
  );
};
export const list = (value: FormValue | undefined): FormValue[] =>
  value === undefined
    ? []
    : Array.isArray(value)
      ? value
      : typeof value === 'object'
        ? Object.values(value)
        : [value];

/** A failure in Stripe's shape: `{ error: { type, message, code?, param? } }`. */
export const failureBody = (failure: ApiFailure) => ({
  error: {
    type: failure.type,
    message: failure.message,
    ...(failure.code ? { code: failure.code } : {}),
    ...(failure.param ? { param: failure.param } : {}),
  },
});
