/**
 * Stripe's configuration section (CONTRACT 9). No defaults: a deployment gives every setting, and
 * the local sandbox's are given by whoever starts it (`npm run up`, the tests: sandbox/stripe).
 */
import { z } from 'zod';
import { fieldMeta, type ProviderSection, type SettingsOf } from '@payments/platform';

export const STRIPE_CHANNELS = ['stripe-card', 'stripe-boleto'] as const;

export const stripeSettings = {
  /** The account's secret (or restricted) API key. */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_live_…, sk_test_… or rk_…)')
    .optional()
    .register(fieldMeta, { secret: true }),
  /** The signing secret of the webhook endpoint (`whsec_…`). */
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\w+$/, "must be the webhook endpoint's signing secret (whsec_…)")
    .optional()
    .register(fieldMeta, { secret: true }),
  /** Where the API is: production `https://api.stripe.com`. */
  STRIPE_API_BASE: z.url().optional(),
};

/** What stripe is given: only its own section, never the rest of the configuration. */
export type StripeSettings = SettingsOf<typeof stripeSettings>;

export const stripeSection: ProviderSection<typeof stripeSettings> = {
  settings: stripeSettings,
  provider: 'stripe',
  channels: STRIPE_CHANNELS,
  required: ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_BASE'],
  endpoints: ['STRIPE_API_BASE'],
  keys: ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'],
  // The sandbox's secret key and webhook signing secret (sandbox/stripe/src/keys.ts).
  publishedKeys: [
    '3c5938e3cb2513a8a7db8c80a4d870acb7e7a28550eb36908be50b39a8a6acb8',
    '01691a7fdb2e4b0b85f23628f92a71e36b6809ed6c5672a9810fcd49e595b010',
  ],
};
