/** The WeChat Pay sandbox's entry in `sandbox/registry.ts`. */
import type { SandboxEntry } from '@payments/sandbox-kit';
import {
  SANDBOX_WECHATPAY_APIV3_KEY,
  SANDBOX_WECHATPAY_APPID,
  SANDBOX_WECHATPAY_MCHID,
  SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
  SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
  SANDBOX_WECHATPAY_SERIAL,
  sandboxWechatpayEnv,
} from './keys';
import { buildWechatpaySandbox } from './server';

export const wechatpaySandbox: SandboxEntry = {
  part: 'sandbox/wechatpay',
  portVariable: 'SANDBOX_WECHATPAY_PORT',
  defaultPort: 8092,
  gatewayEnv: sandboxWechatpayEnv,
  // WeChat Pay's retry schedule compressed a thousandfold: 15 ms, 15 ms, 30 ms, 180 ms, ...
  build: () =>
    buildWechatpaySandbox({
      mchid: SANDBOX_WECHATPAY_MCHID,
      appid: SANDBOX_WECHATPAY_APPID,
      merchantSerial: SANDBOX_WECHATPAY_SERIAL,
      merchantPublicKey: SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
      publicKeyId: SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
      platformPrivateKey: SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
      apiV3Key: SANDBOX_WECHATPAY_APIV3_KEY,
      notifyTimeScale: 0.001,
    }),
  faultsPath: '/sandbox/faults',
};
