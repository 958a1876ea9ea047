/** The Stripe sandbox's entry in `sandbox/registry.ts`. */
import type { SandboxEntry } from '@payments/sandbox-kit';
import { SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET, sandboxStripeEnv } from './keys';
import { buildStripeSandbox } from './server';

export const stripeSandbox: SandboxEntry = {
  part: 'sandbox/stripe',
  portVariable: 'SANDBOX_STRIPE_PORT',
  defaultPort: 8093,
  gatewayEnv: sandboxStripeEnv,
  // Stripe's webhooks go to the account's endpoint: the stack's first gateway, once it runs.
  build: ({ gatewayUrl }) =>
    buildStripeSandbox({
      secretKey: SANDBOX_STRIPE_SECRET_KEY,
      webhookSecret: SANDBOX_STRIPE_WEBHOOK_SECRET,
      webhookUrl: () => {
        const base = gatewayUrl();
        return base && `${base}/v1/notify/stripe`;
      },
      notifyTimeScale: 0.001,
    }),
  faultsPath: '/sandbox/faults',
};
