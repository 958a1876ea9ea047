import { keyFingerprint } from '@payments/platform';
import { loadConfig, stripeSection } from '@payments/providers';
import { SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET, sandboxStripeEnv } from './keys';

describe("the Stripe sandbox's published secrets (issue 27.1)", () => {
  it('are every one named by the fingerprints the gateway refuses outside a sandbox', () => {
    for (const secret of [SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET])
      expect(stripeSection.publishedKeys).toContain(keyFingerprint(secret));
  });

  it('are accepted for the local sandbox and refused for Stripe, each naming its variable', () => {
    expect(loadConfig(sandboxStripeEnv('http://127.0.0.1:8093')).CHANNELS).toEqual([
      'stripe-card',
      'stripe-boleto',
    ]);
    const real = sandboxStripeEnv('https://api.stripe.com');
    expect(() => loadConfig(real)).toThrow(/STRIPE_WEBHOOK_SECRET: is a local sandbox's published test key/);
    expect(() => loadConfig(real)).toThrow(/STRIPE_SECRET_KEY: is a local sandbox's published test key/);
  });
});
