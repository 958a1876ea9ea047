/**
 * A protocol-faithful Alipay on this machine (CONTRACT 9), for the official `alipay-sdk` unchanged:
 * - the v3 API (`api.ts`): requests verified, answers signed, Alipay's error codes;
 * - what the shopper sees (`shopper-pages.ts`): page pay's cashier, the QR code's page, the pay button;
 * - notifications (`notifications.ts`): form POSTs signed RSA2, retried on Alipay's schedule until
 *   answered `success`;
 * - the sandbox control API of CONTRACT 6 (`control.ts`, the kit's).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { keepRawBodies } from '@payments/sandbox-kit';
import { registerApi } from './api';
import { registerControl } from './control';
import { AlipaySandbox, type AlipaySandboxOptions } from './sandbox';
import { registerShopperPages } from './shopper-pages';

export type { AlipaySandboxOptions } from './sandbox';

export function buildAlipaySandbox(options: AlipaySandboxOptions): FastifyInstance {
  const sandbox = new AlipaySandbox(options);
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  // Signatures cover the exact bytes: bodies stay strings until verified.
  keepRawBodies(app);
  app.addHook('onClose', async () => sandbox.notifications.cancelAll());
  app.get('/healthz', async () => ({ status: 'ok' }));

  registerApi(app, sandbox);
  registerShopperPages(app, sandbox);
  registerControl(app, sandbox);
  return app;
}
