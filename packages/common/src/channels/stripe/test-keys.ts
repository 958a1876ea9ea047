/**
 * TEST ONLY. The secret key and webhook signing secret of our local Stripe sandbox
 * (`sandbox/stripe`), published with the source: the defaults of `STRIPE_SECRET_KEY` and
 * `STRIPE_WEBHOOK_SECRET` so that `npm run up`, the demo and the tests work with no account. Stripe
 * itself knows neither: set your account's keys instead (README, "Taking real money").
 */
export const SANDBOX_STRIPE_SECRET_KEY = 'sk_test_51SandboxLocal0000000000000000000000000000000000000000000';
export const SANDBOX_STRIPE_WEBHOOK_SECRET = 'whsec_sandboxlocal0000000000000000000000000000';
