/**
 * An attempt as the provider seam knows it: how a provider finds it, and the create it was asked.
 * The database row (`AttemptRow`) is mapped to these, and to the facts settling and the meaning
 * of answers need, by the functions of `db/attempt-row.ts` alone.
 */

/** Money crosses the seam in integer minor units of its ISO 4217 currency; each adapter converts exactly. */
export interface Money {
  amount: number;
  currency: string;
}

/** An attempt as a provider knows it: our out-trade-no, and the provider's own reference once known. */
export interface AttemptRef {
  channelOrderNo: string;
  providerTradeNo: string | null;
}

export interface CreateTradeRequest {
  channelOrderNo: string;
  merchantOrderNo: string;
  money: Money;
  subject: string;
  /** The order's remaining validity becomes the trade's expiry. */
  expireAt: Date;
  notifyUrl: string;
  /** Where a redirect channel sends the shopper back (the apply's `returnUrl`). */
  returnUrl?: string;
  /**
   * When the attempt was recorded. Everything a create derives from time is derived from this, and
   * every other field is stored with the attempt, so a retry of the create (a second apply, the
   * poller recovering a lost answer) sends exactly the same request: providers refuse a repeated
   * key with other parameters (Stripe `idempotency_error`, WeChat Pay `OUT_TRADE_NO_USED`, Alipay
   * `ACQ.CONTEXT_INCONSISTENT`).
   */
  requestedAt: Date;
}
