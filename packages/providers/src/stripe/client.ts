/**
 * Our one Stripe client: the official `stripe` SDK behind the provider's breaker, pointed at
 * `STRIPE_API_BASE`, its own retries off (ours carry the idempotency keys). Stripe's answers are
 * not signed (TLS is their proof); webhooks are, and are checked here with `constructEvent`.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type CircuitBreaker from 'opossum';
import Stripe from 'stripe';
import type { StripeSettings } from './settings';
import { requireSettings } from '@payments/platform';
import { breakerFailure, ChannelUnavailableError, type ProviderKit } from '@payments/core';
import { meaningOfStripeError, type StripeErrorMeaning } from './status';

/** Stripe refused (a 4xx): what it means, and its code for the message. Never a provider failure. */
export class StripeRefusal {
  constructor(
    readonly meaning: Exclude<StripeErrorMeaning, 'TRY_LATER' | 'OUTCOME_UNKNOWN'>,
    readonly code: string,
    readonly message: string,
  ) {}
}

export type StripeAnswer<T> = { ok: true; value: T } | { ok: false; refusal: StripeRefusal };

/**
 * What one call came back with inside the breaker: an answer, or Stripe's word that it did not run
 * this keyed request while an earlier one with the key may have run (not a failure of Stripe's, so
 * it does not count against the breaker; thrown as an unknown outcome outside it).
 */
type Sent = StripeAnswer<unknown> | { ok: 'OUTCOME_UNKNOWN'; message: string };

type Settings = Pick<StripeSettings, 'STRIPE_SECRET_KEY' | 'STRIPE_WEBHOOK_SECRET' | 'STRIPE_API_BASE'>;

/** Stripe-Signature timestamps older (or newer) than this are refused, as Stripe's libraries do. */
export const STRIPE_WEBHOOK_TOLERANCE_S = 300;

export class StripeClient {
  readonly sdk: Stripe;
  private readonly webhookSecret: string;
  private readonly breaker: CircuitBreaker<[string, (sdk: Stripe) => Promise<unknown>], Sent>;

  constructor(given: Settings, kit: ProviderKit) {
    const settings = requireSettings(
      given,
      ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_BASE'],
      'stripe',
    );
    const base = new URL(settings.STRIPE_API_BASE);
    const https = base.protocol === 'https:';
    this.webhookSecret = settings.STRIPE_WEBHOOK_SECRET;
    this.sdk = new Stripe(settings.STRIPE_SECRET_KEY, {
      host: base.hostname,
      port: base.port ? Number(base.port) : https ? 443 : 80,
      protocol: https ? 'https' : 'http',
      maxNetworkRetries: 0,
      timeout: kit.callTimeoutMs,
      telemetry: false,
      httpAgent: https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true }),
    });
    this.breaker = kit.breaker('stripe', (what: string, call: (sdk: Stripe) => Promise<unknown>) =>
      this.send(what, call),
    );
  }

  /**
   * One API call. Throws `ChannelUnavailableError` for every provider failure and every unknown
   * outcome (`mayHaveReachedProvider`: an idempotency conflict included); refusals are answers.
   */
  async call<T>(what: string, call: (sdk: Stripe) => Promise<T>): Promise<StripeAnswer<T>> {
    let sent: Sent;
    try {
      sent = await this.breaker.fire(what, call);
    } catch (error) {
      throw breakerFailure(error);
    }
    if (sent.ok === 'OUTCOME_UNKNOWN')
      throw new ChannelUnavailableError(sent.message, { mayHaveReachedProvider: true });
    return sent as StripeAnswer<T>;
  }

  /** The event a webhook carries, once `Stripe-Signature` holds over the raw body; throws otherwise. */
  constructEvent(rawBody: Buffer, signature: string): Stripe.Event {
    return this.sdk.webhooks.constructEvent(
      rawBody,
      signature,
      this.webhookSecret,
      STRIPE_WEBHOOK_TOLERANCE_S,
    );
  }

  /** Inside the breaker: refusals are answers; failures (and Stripe's "try later") count against it. */
  private async send(what: string, call: (sdk: Stripe) => Promise<unknown>): Promise<Sent> {
    try {
      return { ok: true, value: await call(this.sdk) };
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeError)) throw error;
      const meaning = meaningOfStripeError(error);
      const code = error.code ?? error.type;
      const status = error.statusCode ? ` (HTTP ${error.statusCode})` : '';
      const message = String(error.message).slice(0, 200);
      switch (meaning) {
        case 'TRY_LATER':
          throw new ChannelUnavailableError(`Stripe ${what} failed: ${code}${status}`);
        case 'OUTCOME_UNKNOWN':
          return {
            ok: 'OUTCOME_UNKNOWN',
            message: `Stripe ${what} not run again: ${code}${status} ${message}`,
          };
        case 'NOT_FOUND':
        case 'WRONG_STATE':
        case 'REFUSED':
          return { ok: false, refusal: new StripeRefusal(meaning, code, message) };
        default: {
          const unknown: never = meaning;
          throw new Error(`unknown Stripe error meaning ${String(unknown)}`);
        }
      }
    }
  }
}
