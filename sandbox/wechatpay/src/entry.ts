/** The WeChat Pay sandbox's entry in `sandbox/registry.ts`. */
import type { SandboxEntry } from '@payments/sandbox-kit';
import { SANDBOX_WECHATPAY_SERVER_KEYS, sandboxWechatpayEnv } from './keys';
import { buildWechatpaySandbox } from './server';

export const wechatpaySandbox: SandboxEntry = {
  part: 'sandbox/wechatpay',
  portVariable: 'SANDBOX_WECHATPAY_PORT',
  defaultPort: 8092,
  gatewayEnv: sandboxWechatpayEnv,
  // WeChat Pay's retry schedule compressed a thousandfold: 15 ms, 15 ms, 30 ms, 180 ms, ...
  build: () => buildWechatpaySandbox({ ...SANDBOX_WECHATPAY_SERVER_KEYS, notifyTimeScale: 0.001 }),
  faultsPath: '/sandbox/faults',
};
