/**
 * What a provider's "I do not know this trade" means for one attempt. Pure: no I/O.
 *
 * A provider that has no trade for our out-trade-no may still get one: a create whose answer we
 * never saw (timed out, connection cut, gateway stopped) can reach the provider after we asked.
 * Only once the attempt's expiry has passed (the provider was given that expiry, so a trade made
 * that late can no longer be paid) is "not found" final. Until then the attempt stays in flight
 * and the poller keeps asking, the way Kill Bill's janitor treats an UNKNOWN payment.
 */
export interface AttemptFacts {
  /** True once the provider confirmed the create (we stored its pay URL). */
  createConfirmed: boolean;
  expireAt: Date;
}

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
