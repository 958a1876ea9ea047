import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, isSandboxUrl, keyFingerprint } from '@payments/platform';
import { loadConfig } from './registry';

/** A key pair of our own: what a real deployment's keys look like to the configuration. */
const realKey = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const appKey = realKey();
const alipayKey = realKey();
const realAlipay = {
  ALIPAY_APP_ID: '2021004100000001',
  ALIPAY_PRIVATE_KEY: appKey.privateKey,
  ALIPAY_PUBLIC_KEY: alipayKey.publicKey,
  ALIPAY_ENDPOINT: 'https://openapi.alipay.com',
};
const realWechatpay = {
  WECHATPAY_MCHID: '1230000109',
  WECHATPAY_APPID: 'wxd678efh567hg6787',
  WECHATPAY_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  WECHATPAY_PRIVATE_KEY: realKey().privateKey,
  WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0112345678202401010000000000000001',
  WECHATPAY_PUBLIC_KEY: realKey().publicKey,
  WECHATPAY_APIV3_KEY: 'abcdefghijklmnopqrstuvwxyz012345',
  WECHATPAY_BASE_URL: 'https://api.mch.weixin.qq.com/',
};
const realStripe = {
  STRIPE_SECRET_KEY: 'sk_live_51RealAccountKey',
  STRIPE_WEBHOOK_SECRET: 'whsec_realendpointsecret',
  STRIPE_API_BASE: 'https://api.stripe.com',
};

describe('provider settings (issue 27.1: no sandbox defaults)', () => {
  it('have no defaults: nothing configured offers no channel, and no sandbox key is filled in', () => {
    const config = loadConfig({});
    expect(config.CHANNELS).toEqual([]);
    expect(config.ALIPAY_PUBLIC_KEY).toBeUndefined();
    expect(config.ALIPAY_ENDPOINT).toBeUndefined();
    expect(config.WECHATPAY_PUBLIC_KEY).toBeUndefined();
    expect(config.WECHATPAY_APIV3_KEY).toBeUndefined();
    expect(config.STRIPE_SECRET_KEY).toBeUndefined();
    expect(config.PSP_SECRET).toBeUndefined();
  });

  it('offer, with CHANNELS unset, the channels of the providers configured: no sandbox channel without the sandbox', () => {
    expect(loadConfig(realAlipay).CHANNELS).toEqual(['alipay-qr', 'alipay-page']);
    expect(loadConfig({ ...realAlipay, ...realStripe }).CHANNELS).toEqual([
      'alipay-qr',
      'alipay-page',
      'stripe-card',
      'stripe-boleto',
    ]);
    expect(loadConfig({ ...realAlipay, CHANNELS: 'alipay-qr' }).CHANNELS).toEqual(['alipay-qr']);
  });

  it.each([
    ['ALIPAY_PUBLIC_KEY', realAlipay],
    ['ALIPAY_APP_ID', realAlipay],
    ['ALIPAY_PRIVATE_KEY', realAlipay],
    ['ALIPAY_ENDPOINT', realAlipay],
    ['WECHATPAY_PUBLIC_KEY', realWechatpay],
    ['WECHATPAY_PUBLIC_KEY_ID', realWechatpay],
    ['WECHATPAY_APIV3_KEY', realWechatpay],
    ['WECHATPAY_BASE_URL', realWechatpay],
    ['STRIPE_WEBHOOK_SECRET', realStripe],
    ['STRIPE_SECRET_KEY', realStripe],
    ['STRIPE_API_BASE', realStripe],
  ])('stop when %s is missing from a configured provider, naming it', (name, section) => {
    const env: Record<string, string> = { ...section };
    delete env[name];
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`${name}: required`));
  });

  it('stop when CHANNELS names a channel whose provider is not configured, naming every setting it needs', () => {
    const attempt = () => loadConfig({ CHANNELS: 'wechat-native' });
    for (const name of [
      'WECHATPAY_MCHID',
      'WECHATPAY_PUBLIC_KEY',
      'WECHATPAY_APIV3_KEY',
      'WECHATPAY_BASE_URL',
    ])
      expect(attempt).toThrow(new RegExp(`${name}: required: CHANNELS names wechat-native`));
    expect(() => loadConfig({ CHANNELS: 'sandbox-wallet' })).toThrow(/PSP_SECRET: required/);
  });

  it('take a key as one line with literal \\n, or from <NAME>_FILE', () => {
    const oneLine = appKey.privateKey.replace(/\n/g, '\\n');
    expect(loadConfig({ ...realAlipay, ALIPAY_PRIVATE_KEY: oneLine }).ALIPAY_PRIVATE_KEY).toBe(
      appKey.privateKey.trim(),
    );
    const path = join(mkdtempSync(join(tmpdir(), 'keys-')), 'app.pem');
    writeFileSync(path, `${appKey.privateKey}\n`);
    const { ALIPAY_PRIVATE_KEY: _, ...withoutKey } = realAlipay;
    expect(loadConfig({ ...withoutKey, ALIPAY_PRIVATE_KEY_FILE: path }).ALIPAY_PRIVATE_KEY).toBe(
      appKey.privateKey.trim(),
    );
    expect(() => loadConfig({ ALIPAY_PRIVATE_KEY_FILE: '/nonexistent/app.pem' })).toThrow(
      /ALIPAY_PRIVATE_KEY_FILE/,
    );
  });

  it('refuses a malformed app id, merchant id or APIv3 key, naming it', () => {
    expect(() => loadConfig({ ALIPAY_APP_ID: 'abc' })).toThrow(/ALIPAY_APP_ID/);
    expect(() => loadConfig({ WECHATPAY_MCHID: 'm-1' })).toThrow(/WECHATPAY_MCHID/);
    expect(() => loadConfig({ WECHATPAY_APPID: '1900000109' })).toThrow(/WECHATPAY_APPID/);
    expect(() => loadConfig({ WECHATPAY_APIV3_KEY: 'a'.repeat(31) })).toThrow(/WECHATPAY_APIV3_KEY/);
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'pk_live_abc' })).toThrow(/STRIPE_SECRET_KEY/);
  });

  it('tells a local sandbox by its host: loopback, or a host SANDBOX_HOSTS names', () => {
    expect(isSandboxUrl('http://127.0.0.1:8091', [])).toBe(true);
    expect(isSandboxUrl('http://localhost:8091', [])).toBe(true);
    expect(isSandboxUrl('http://[::1]:8091', [])).toBe(true);
    expect(isSandboxUrl('http://alipay:8091', [])).toBe(false);
    expect(isSandboxUrl('http://alipay:8091', ['alipay'])).toBe(true);
    expect(isSandboxUrl('https://openapi.alipay.com', ['alipay'])).toBe(false);
    expect(isSandboxUrl('https://127.0.0.1.example.com', [])).toBe(false);
  });

  it('names a key by its public half: a private key and its public key have one fingerprint', () => {
    expect(keyFingerprint(appKey.privateKey)).toBe(keyFingerprint(appKey.publicKey));
    expect(keyFingerprint(appKey.publicKey)).not.toBe(keyFingerprint(alipayKey.publicKey));
    expect(keyFingerprint('whsec_x')).toMatch(/^[0-9a-f]{64}$/);
  });
});
