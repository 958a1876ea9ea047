/**
 * A protocol-faithful Stripe on this machine (CONTRACT 9), for the official `stripe` SDK unchanged:
 * - the API (`api.ts`, each route as `api-route.ts` serves it: form-encoded bracket parameters,
 *   `Authorization: Bearer` with the secret key, Stripe's error shape and codes, and its
 *   idempotency: a keyed POST that ran is replayed for 24 hours, the same key with other parameters
 *   is `400 idempotency_error`, one still running `409 idempotency_key_in_use`, and a request
 *   refused before it ran is not kept);
 * - the hosted Checkout stand-in a shopper pays on and the Boleto voucher (`shopper-pages.ts`);
 * - webhooks to the configured endpoint (`webhooks.ts`), signed, retried on a Stripe-like schedule
 *   until answered 2xx;
 * - the sandbox control API of CONTRACT 6 (`control.ts`, the kit's), with Boleto steps, Stripe's
 *   own fault and the sandbox's clock.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { keepRawBodies } from '@payments/sandbox-kit';
import { registerApi } from './api';
import { registerControl } from './control';
import { createStripeSandbox, type StripeSandboxOptions } from './sandbox';
import { registerShopperPages } from './shopper-pages';

export type { StripeSandboxOptions } from './sandbox';

export function buildStripeSandbox(options: StripeSandboxOptions): FastifyInstance {
  const sandbox = createStripeSandbox(options);
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  keepRawBodies(app);

  registerApi(app, sandbox);
  registerShopperPages(app, sandbox);
  app.addHook('onClose', async () => sandbox.cancelAll());
  app.get('/healthz', async () => ({ status: 'ok' }));
  registerControl(app, sandbox);
  return app;
}
