import { generateKeyPairSync } from 'node:crypto';
import { keyFingerprint } from '@payments/platform';
import { alipaySection, loadConfig } from '@payments/providers';
import {
  SANDBOX_ALIPAY_PRIVATE_KEY,
  SANDBOX_ALIPAY_PUBLIC_KEY,
  SANDBOX_APP_PRIVATE_KEY,
  SANDBOX_APP_PUBLIC_KEY,
  sandboxAlipayEnv,
} from './keys';

describe("the Alipay sandbox's published keys (issue 27.1)", () => {
  it('are every one named by the fingerprints the gateway refuses outside a sandbox', () => {
    for (const key of [
      SANDBOX_APP_PRIVATE_KEY,
      SANDBOX_APP_PUBLIC_KEY,
      SANDBOX_ALIPAY_PRIVATE_KEY,
      SANDBOX_ALIPAY_PUBLIC_KEY,
    ])
      expect(alipaySection.publishedKeys).toContain(keyFingerprint(key));
  });

  it('are accepted for the local sandbox (loopback, or a host SANDBOX_HOSTS names)', () => {
    expect(loadConfig(sandboxAlipayEnv('http://127.0.0.1:8091')).CHANNELS).toEqual([
      'alipay-qr',
      'alipay-page',
    ]);
    expect(() =>
      loadConfig({ ...sandboxAlipayEnv('http://alipay:8091'), SANDBOX_HOSTS: 'alipay' }),
    ).not.toThrow();
  });

  it('are refused for Alipay itself: its public key, whose private half ships here, names ALIPAY_PUBLIC_KEY', () => {
    const real = sandboxAlipayEnv('https://openapi.alipay.com');
    expect(() => loadConfig(real)).toThrow(/ALIPAY_PUBLIC_KEY: is a local sandbox's published test key/);
    expect(() => loadConfig(real)).toThrow(/ALIPAY_PRIVATE_KEY: is a local sandbox's published test key/);
    // A real app key beside the sandbox's "Alipay" public key: anyone could sign TRADE_SUCCESS.
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const mixed = { ...real, ALIPAY_PRIVATE_KEY: privateKey };
    expect(() => loadConfig(mixed)).toThrow(/ALIPAY_PUBLIC_KEY: is a local sandbox's published test key/);
    expect(() => loadConfig(mixed)).not.toThrow(/ALIPAY_PRIVATE_KEY/);
    // So is the page-pay gateway pointed elsewhere while the API is the sandbox.
    expect(() =>
      loadConfig({
        ...sandboxAlipayEnv('http://127.0.0.1:8091'),
        ALIPAY_GATEWAY: 'https://openapi.alipay.com/gateway.do',
      }),
    ).toThrow(/ALIPAY_PUBLIC_KEY: .*ALIPAY_GATEWAY/);
  });
});
