/**
 * TEST ONLY. The secret key and webhook signing secret of our local Stripe sandbox, published with
 * the source. The configuration has no defaults: `npm run up`, the demo, docker-compose and the
 * tests give them (`sandboxStripeEnv`), and the gateway refuses them for a STRIPE_API_BASE that is
 * not a local sandbox. Stripe itself knows neither (README, "Taking real money").
 */
export const SANDBOX_STRIPE_SECRET_KEY = 'sk_test_51SandboxLocal0000000000000000000000000000000000000000000';
export const SANDBOX_STRIPE_WEBHOOK_SECRET = 'whsec_sandboxlocal0000000000000000000000000000';

/** The settings that point the gateway's Stripe provider at this sandbox (`npm run up`, tests, bench). */
export function sandboxStripeEnv(apiBase: string): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: SANDBOX_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: SANDBOX_STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE: apiBase,
  };
}
