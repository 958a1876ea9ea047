/**
 * WeChat Pay's configuration section (CONTRACT 9). No defaults: a deployment gives every setting,
 * and the local sandbox's are given by whoever starts it (`npm run up`, the tests: sandbox/wechatpay).
 */
import { z } from 'zod';
import { fieldMeta, keyText, type ProviderSection, type SettingsOf } from '@payments/platform';

export const WECHATPAY_CHANNELS = ['wechat-native'] as const;

export const wechatpaySettings = {
  WECHATPAY_MCHID: z
    .string()
    .regex(/^\d{8,12}$/, 'must be the merchant id WeChat Pay gave the merchant (digits)')
    .optional(),
  WECHATPAY_APPID: z
    .string()
    .regex(/^wx[0-9a-zA-Z]{16}$/, 'must be the app id bound to the merchant (wx and 16 characters)')
    .optional(),
  /** The serial number of the merchant's API certificate (hex). */
  WECHATPAY_SERIAL: z
    .string()
    .regex(/^[0-9A-Fa-f]{8,40}$/, "must be the merchant API certificate's serial number (hex)")
    .optional(),
  /** The merchant's API private key (`apiclient_key.pem`), PKCS#8 or PKCS#1 PEM. */
  WECHATPAY_PRIVATE_KEY: keyText({ secret: true }),
  /** The id of WeChat Pay's public key (platform public-key mode). */
  WECHATPAY_PUBLIC_KEY_ID: z
    .string()
    .regex(/^PUB_KEY_ID_\w+$/, 'must be the id of WeChat Pay\'s public key ("PUB_KEY_ID_…")')
    .optional(),
  /** WeChat Pay's public key (SPKI PEM), not the merchant's. */
  WECHATPAY_PUBLIC_KEY: keyText({ secret: false }),
  /** The APIv3 key notifications are encrypted with: 32 bytes. */
  WECHATPAY_APIV3_KEY: z
    .string()
    .refine(
      (key) => Buffer.byteLength(key, 'utf8') === 32,
      'must be the 32-byte APIv3 key set in the merchant platform',
    )
    .optional()
    .register(fieldMeta, { secret: true }),
  /** Base of the v3 API: production `https://api.mch.weixin.qq.com/`. */
  WECHATPAY_BASE_URL: z.url().optional(),
};

/** What wechatpay is given: only its own section, never the rest of the configuration. */
export type WechatpaySettings = SettingsOf<typeof wechatpaySettings>;

export const wechatpaySection: ProviderSection<typeof wechatpaySettings> = {
  settings: wechatpaySettings,
  provider: 'wechatpay',
  channels: WECHATPAY_CHANNELS,
  required: [
    'WECHATPAY_MCHID',
    'WECHATPAY_APPID',
    'WECHATPAY_SERIAL',
    'WECHATPAY_PRIVATE_KEY',
    'WECHATPAY_PUBLIC_KEY_ID',
    'WECHATPAY_PUBLIC_KEY',
    'WECHATPAY_APIV3_KEY',
    'WECHATPAY_BASE_URL',
  ],
  endpoints: ['WECHATPAY_BASE_URL'],
  keys: ['WECHATPAY_PRIVATE_KEY', 'WECHATPAY_PUBLIC_KEY', 'WECHATPAY_APIV3_KEY'],
  // The sandbox's merchant key pair, its "WeChat Pay" key pair, its platform certificate's key pair
  // and its APIv3 key (sandbox/wechatpay/src/keys.ts, platform-certificate.ts).
  publishedKeys: [
    '30dc5e4791fad21f30839287682933797f7b250a3e8039dac0b3ee358c5e89ce',
    '28326383b66ed9e3c8c777b5c329915597e716c76dbc336e823ad84975f43641',
    '44c6a95eed9ced44d2fc7982c60bc606b5523e75edab7173fdd79ae53f241965',
    '0d664cdc56f4071db7a2c197f6186f478a54f3e4e95335bf681a6e85b10454d5',
  ],
};
