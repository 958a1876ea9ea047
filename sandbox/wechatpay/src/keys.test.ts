import { keyFingerprint } from '@payments/platform';
import { loadConfig, wechatpaySection } from '@payments/providers';
import {
  SANDBOX_WECHATPAY_APIV3_KEY,
  SANDBOX_WECHATPAY_MERCHANT_PRIVATE_KEY,
  SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
  SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY,
  sandboxWechatpayEnv,
} from './keys';
import {
  SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE,
} from './platform-certificate';

describe("the WeChat Pay sandbox's published keys (issue 27.1)", () => {
  it('are every one named by the fingerprints the gateway refuses outside a sandbox', () => {
    for (const key of [
      SANDBOX_WECHATPAY_MERCHANT_PRIVATE_KEY,
      SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
      SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
      SANDBOX_WECHATPAY_PUBLIC_KEY,
      SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY,
      SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE,
      SANDBOX_WECHATPAY_APIV3_KEY,
    ])
      expect(wechatpaySection.publishedKeys).toContain(keyFingerprint(key));
  });

  it('are accepted for the local sandbox and refused for WeChat Pay, each naming its variable', () => {
    expect(loadConfig(sandboxWechatpayEnv('http://127.0.0.1:8092/')).CHANNELS).toEqual(['wechat-native']);
    const real = sandboxWechatpayEnv('https://api.mch.weixin.qq.com/');
    for (const name of ['WECHATPAY_PUBLIC_KEY', 'WECHATPAY_PRIVATE_KEY', 'WECHATPAY_APIV3_KEY'])
      expect(() => loadConfig(real)).toThrow(new RegExp(`${name}: is a local sandbox's published test key`));
  });
});
