/**
 * A protocol-faithful WeChat Pay (APIv3) on this machine (CONTRACT 9), for the official
 * `wechatpay-axios-plugin` unchanged:
 * - the APIv3 (`api.ts`): the merchant's signature verified, every answer signed, WeChat Pay's
 *   error codes and statuses;
 * - what the shopper sees (`shopper-pages.ts`): the QR code's page (opening it is scanning it in
 *   WeChat), the pay button;
 * - notifications (`notifications.ts`): JSON with an AEAD_AES_256_GCM resource, signed, retried on
 *   WeChat Pay's schedule until answered 2xx; refunds settle asynchronously and notify too;
 * - the sandbox control API of CONTRACT 6 (`control.ts`, the kit's), and WeChat Pay's own.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { keepRawBodies } from '@payments/sandbox-kit';
import { registerApi } from './api';
import { registerControl } from './control';
import { WechatpaySandbox, type WechatpaySandboxOptions } from './sandbox';
import { registerShopperPages } from './shopper-pages';

export type { WechatpaySandboxOptions } from './sandbox';

export function buildWechatpaySandbox(options: WechatpaySandboxOptions): FastifyInstance {
  const sandbox = new WechatpaySandbox(options);
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  // Signatures cover the exact bytes: bodies stay strings until verified.
  keepRawBodies(app);
  app.addHook('onClose', async () => sandbox.cancelAll());
  app.get('/healthz', async () => ({ status: 'ok' }));

  registerApi(app, sandbox);
  registerShopperPages(app, sandbox);
  registerControl(app, sandbox);
  return app;
}
