/** Stripe's configuration section (CONTRACT 9); its defaults are the local sandbox's. */
import { z } from 'zod';
import { fieldMeta, port, url } from '../../config/fields';
import { SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET } from './test-keys';

export const stripeSettings = {
  /** The account's secret (or restricted) API key. */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_live_…, sk_test_… or rk_…)')
    .default(SANDBOX_STRIPE_SECRET_KEY)
    .register(fieldMeta, { secret: true }),
  /** The signing secret of the webhook endpoint (`whsec_…`). */
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\w+$/, "must be the webhook endpoint's signing secret (whsec_…)")
    .default(SANDBOX_STRIPE_WEBHOOK_SECRET)
    .register(fieldMeta, { secret: true }),
  /** Where the API is: production `https://api.stripe.com`. */
  STRIPE_API_BASE: url('http://127.0.0.1:8093'),
  SANDBOX_STRIPE_PORT: port(8093),
};
