/**
 * What a provider's answer means for one attempt, decided here and nowhere else (STYLE 19). Pure:
 * no I/O. Adapters only read their provider's words into these answers (a trade's outcome,
 * "not found", a close's result); `meaningOfQuery` and `meaningOfClose` turn them into the
 * outcome the attempt is settled with, and `decideSettlement` applies an outcome to the order.
 *
 * A provider that has no trade for our out-trade-no may still get one: a create whose answer we
 * never saw (timed out, connection cut, gateway stopped) can reach the provider after we asked.
 * Only once the attempt's expiry has passed (the provider was given that expiry, so a trade made
 * that late can no longer be paid) is "not found" final. Until then the attempt stays in flight
 * and the poller keeps asking, the way Kill Bill's janitor treats an UNKNOWN payment.
 */
import type { ProviderOutcome } from './settle';

export interface AttemptFacts {
  /** True once the provider confirmed the create (we stored its pay URL). */
  createConfirmed: boolean;
  expireAt: Date;
}

/** What a provider answers to a query of a trade: its outcome, or that it knows no such trade. */
export type QueryAnswer = ProviderOutcome | 'NOT_FOUND';

/** What a provider answers to a close of a trade. */
export type CloseResult =
  | { result: 'CLOSED' }
  /** The shopper paid before the close reached the provider. */
  | { result: 'ALREADY_PAID'; outcome: ProviderOutcome }
  /** This channel cannot close a trade (an offline voucher). */
  | { result: 'NOT_SUPPORTED' }
  /** The provider knows no such trade (see `meaningOfNotFound` for what that means). */
  | { result: 'NOT_FOUND' }
  /**
   * Not closed: the shopper is paying at this moment (WeChat Pay `202 USER_PAYING`, a password
   * being entered), and the payment may still complete. The attempt stays in flight and polled.
   */
  | { result: 'IN_PAYMENT' };

/** Allowance for the provider's clock being behind ours when we judge its expiry to have passed. */
export const PROVIDER_CLOCK_SKEW_MS = 2_000;

export type NotFoundMeaning =
  /** Past its expiry and never found: it can never be paid. */
  | 'NEVER_PAYABLE'
  /** The create may still arrive (outcome unknown), or the provider lags: ask again later. */
  | 'NOT_YET';

export function meaningOfNotFound(attempt: AttemptFacts, now: Date): NotFoundMeaning {
  return now.getTime() >= attempt.expireAt.getTime() + PROVIDER_CLOCK_SKEW_MS ? 'NEVER_PAYABLE' : 'NOT_YET';
}

/**
 * What a query's answer means: a trade found is its outcome. Not found is still paying while a
 * create may arrive; past that, a create nobody confirmed never made a trade (FAILED), and a
 * confirmed one the provider no longer knows can no longer be paid (CLOSED).
 */
export function meaningOfQuery(answer: QueryAnswer, attempt: AttemptFacts, now: Date): ProviderOutcome {
  if (answer !== 'NOT_FOUND') return answer;
  if (meaningOfNotFound(attempt, now) === 'NOT_YET') return { status: 'PAYING' }; // keep asking
  return attempt.createConfirmed
    ? { status: 'CLOSED' }
    : { status: 'FAILED', reason: 'never found at the provider, and past its expiry' };
}

export type CloseMeaning =
  /** The trade can no longer be paid: the attempt is settled CLOSED. */
  | { kind: 'CLOSED'; outcome: ProviderOutcome }
  /** Paid before the close arrived: settled as the payment it is (the money was taken). */
  | { kind: 'PAID'; outcome: ProviderOutcome }
  /**
   * Not closed, and the attempt stays in flight for the poller: a voucher cannot be closed; not
   * found while a create may still arrive; the shopper is paying right now (it may still be paid,
   * and is then kept if first, refunded if extra, as any payment after a close).
   */
  | { kind: 'OPEN'; reason: 'NOT_SUPPORTED' | 'NOT_FOUND_YET' | 'IN_PAYMENT' };

/** What a close's answer means: "not found" ends the attempt only once it can no longer be paid. */
export function meaningOfClose(answer: CloseResult, attempt: AttemptFacts, now: Date): CloseMeaning {
  switch (answer.result) {
    case 'CLOSED':
      return { kind: 'CLOSED', outcome: { status: 'CLOSED' } };
    case 'NOT_FOUND':
      return meaningOfNotFound(attempt, now) === 'NOT_YET'
        ? { kind: 'OPEN', reason: 'NOT_FOUND_YET' }
        : { kind: 'CLOSED', outcome: { status: 'CLOSED' } };
    case 'ALREADY_PAID':
      return { kind: 'PAID', outcome: answer.outcome };
    case 'NOT_SUPPORTED':
      return { kind: 'OPEN', reason: 'NOT_SUPPORTED' };
    case 'IN_PAYMENT':
      return { kind: 'OPEN', reason: 'IN_PAYMENT' };
    default: {
      const unknown: never = answer;
      throw new Error(`unknown close result ${JSON.stringify(unknown)}`);
    }
  }
}
