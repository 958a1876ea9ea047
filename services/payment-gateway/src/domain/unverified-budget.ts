/**
 * What an unverified notification may cost us (issue 27.9). Anybody can POST to /v1/notify/…:
 * each one that fails verification used to write a callback_log row under an order number the
 * sender chose. Now:
 * - per source (the remote address), a token bucket: `burst` at once, then `perSecond`; over it,
 *   the notification is answered 429 and nothing is written. Only notifications that *failed*
 *   verification spend tokens, so a provider's genuine ones are never held up, even when they
 *   arrive through the same proxy address as a flood.
 * - per gateway, a sample: the first `samplesPerMinute` of each minute are kept in callback_log
 *   (a bounded body prefix, no order number: the claimed one is only named in `detail`), the
 *   rest are only counted (callbacks_total{result}). Enough to see what is being sent, at a
 *   bounded rate whatever the number of sources.
 * - the buckets are bounded too: at `maxSources`, full buckets (idle sources) are dropped, and
 *   if that frees nothing, new sources share one bucket.
 * In memory, per gateway process: each of N gateways admits its own share.
 */
export interface UnverifiedLimits {
  burst: number;
  perSecond: number;
  samplesPerMinute: number;
  maxSources: number;
}

export const UNVERIFIED_LIMITS: UnverifiedLimits = {
  burst: 20,
  perSecond: 1,
  samplesPerMinute: 20,
  maxSources: 10_000,
};

/** `refused`: over the source's limit (429, nothing written); `sampled`: kept; `counted`: only counted. */
export type UnverifiedAdmission = 'refused' | 'sampled' | 'counted';

const SHARED_SOURCE = '(sources past maxSources)';

export class UnverifiedBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sampleMinute = -1;
  private samplesTaken = 0;

  constructor(
    private readonly limits: UnverifiedLimits = UNVERIFIED_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spends one unverified notification of `source`'s. */
  admit(source: string): UnverifiedAdmission {
    const now = this.now();
    const bucket = this.bucketOf(source, now);
    bucket.tokens = Math.min(
      this.limits.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.limits.perSecond,
    );
    bucket.at = now;
    if (bucket.tokens < 1) return 'refused';
    bucket.tokens -= 1;
    const minute = Math.floor(now / 60_000);
    if (minute !== this.sampleMinute) {
      this.sampleMinute = minute;
      this.samplesTaken = 0;
    }
    if (this.samplesTaken >= this.limits.samplesPerMinute) return 'counted';
    this.samplesTaken += 1;
    return 'sampled';
  }

  /** Sources tracked now (for tests). */
  get sources(): number {
    return this.buckets.size;
  }

  private bucketOf(source: string, now: number) {
    let key = source;
    if (!this.buckets.has(key) && this.buckets.size >= this.limits.maxSources) {
      for (const [known, bucket] of this.buckets) {
        const refilled = bucket.tokens + ((now - bucket.at) / 1000) * this.limits.perSecond;
        if (refilled >= this.limits.burst) this.buckets.delete(known);
      }
      if (this.buckets.size >= this.limits.maxSources) key = SHARED_SOURCE;
    }
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.limits.burst, at: now };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
