/**
 * Alipay's configuration section (CONTRACT 9). No defaults: a deployment gives every setting, and
 * the local sandbox's are given by whoever starts it (`npm run up`, the tests: sandbox/alipay).
 */
import { z } from 'zod';
import { keyText, type ProviderSection, type SettingsOf } from '@payments/platform';

export const ALIPAY_CHANNELS = ['alipay-qr', 'alipay-page'] as const;

export const alipaySettings = {
  ALIPAY_APP_ID: z
    .string()
    .regex(/^\d{16}$/, 'must be the 16-digit app id Alipay gave the app')
    .optional(),
  /** The app's RSA2 private key, PKCS#8 or PKCS#1 PEM. */
  ALIPAY_PRIVATE_KEY: keyText({ secret: true }),
  /** Alipay's public key (SPKI PEM), not the app's. */
  ALIPAY_PUBLIC_KEY: keyText({ secret: false }),
  /** Base of the v3 API: production `https://openapi.alipay.com`. */
  ALIPAY_ENDPOINT: z.url().optional(),
  /** Page pay's gateway; default `${ALIPAY_ENDPOINT}/gateway.do`. */
  ALIPAY_GATEWAY: z.url().optional(),
};

/** What alipay is given: only its own section, never the rest of the configuration. */
export type AlipaySettings = SettingsOf<typeof alipaySettings>;

export const alipaySection: ProviderSection<typeof alipaySettings> = {
  settings: alipaySettings,
  provider: 'alipay',
  channels: ALIPAY_CHANNELS,
  required: ['ALIPAY_APP_ID', 'ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY', 'ALIPAY_ENDPOINT'],
  endpoints: ['ALIPAY_ENDPOINT', 'ALIPAY_GATEWAY'],
  keys: ['ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY'],
  // The sandbox's app key pair and its "Alipay" key pair (sandbox/alipay/src/keys.ts).
  publishedKeys: [
    'c06965dc4c4d61c36ce92f3cff887676eea89e3495ac8b7482fe0fd10ceab35d',
    'c19a7370c9527103cae1012026f9b5526698d36555056370e4a28d69428158fa',
  ],
};
