/** The Alipay sandbox's entry in `sandbox/registry.ts`. */
import type { SandboxEntry } from '@payments/sandbox-kit';
import {
  SANDBOX_ALIPAY_APP_ID,
  SANDBOX_ALIPAY_PRIVATE_KEY,
  SANDBOX_APP_PUBLIC_KEY,
  sandboxAlipayEnv,
} from './keys';
import { buildAlipaySandbox } from './server';

export const alipaySandbox: SandboxEntry = {
  part: 'sandbox/alipay',
  portVariable: 'SANDBOX_ALIPAY_PORT',
  defaultPort: 8091,
  gatewayEnv: sandboxAlipayEnv,
  // Alipay's retry schedule compressed a thousandfold: 240 ms, 600 ms, 600 ms, 3.6 s, ...
  build: () =>
    buildAlipaySandbox({
      appId: SANDBOX_ALIPAY_APP_ID,
      appPublicKey: SANDBOX_APP_PUBLIC_KEY,
      alipayPrivateKey: SANDBOX_ALIPAY_PRIVATE_KEY,
      notifyTimeScale: 0.001,
    }),
  faultsPath: '/sandbox/faults',
};
