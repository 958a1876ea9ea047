/** WeChat Pay's configuration section (CONTRACT 9); its defaults are the local sandbox's. */
import { z } from 'zod';
import { fieldMeta, keyText, port, url } from '../../config/fields';
import {
  SANDBOX_WECHATPAY_APIV3_KEY,
  SANDBOX_WECHATPAY_APPID,
  SANDBOX_WECHATPAY_MCHID,
  SANDBOX_WECHATPAY_MERCHANT_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
  SANDBOX_WECHATPAY_SERIAL,
} from './test-keys';

export const wechatpaySettings = {
  WECHATPAY_MCHID: z
    .string()
    .regex(/^\d{8,12}$/, 'must be the merchant id WeChat Pay gave the merchant (digits)')
    .default(SANDBOX_WECHATPAY_MCHID),
  WECHATPAY_APPID: z
    .string()
    .regex(/^wx[0-9a-zA-Z]{16}$/, 'must be the app id bound to the merchant (wx and 16 characters)')
    .default(SANDBOX_WECHATPAY_APPID),
  /** The serial number of the merchant's API certificate (hex). */
  WECHATPAY_SERIAL: z
    .string()
    .regex(/^[0-9A-Fa-f]{8,40}$/, "must be the merchant API certificate's serial number (hex)")
    .default(SANDBOX_WECHATPAY_SERIAL),
  /** The merchant's API private key (`apiclient_key.pem`), PKCS#8 or PKCS#1 PEM. */
  WECHATPAY_PRIVATE_KEY: keyText(SANDBOX_WECHATPAY_MERCHANT_PRIVATE_KEY, { secret: true }),
  /** The id of WeChat Pay's public key (platform public-key mode). */
  WECHATPAY_PUBLIC_KEY_ID: z
    .string()
    .regex(/^PUB_KEY_ID_\w+$/, 'must be the id of WeChat Pay\'s public key ("PUB_KEY_ID_…")')
    .default(SANDBOX_WECHATPAY_PUBLIC_KEY_ID),
  /** WeChat Pay's public key (SPKI PEM), not the merchant's. */
  WECHATPAY_PUBLIC_KEY: keyText(SANDBOX_WECHATPAY_PUBLIC_KEY, { secret: false }),
  /** The APIv3 key notifications are encrypted with: 32 bytes. */
  WECHATPAY_APIV3_KEY: z
    .string()
    .refine(
      (key) => Buffer.byteLength(key, 'utf8') === 32,
      'must be the 32-byte APIv3 key set in the merchant platform',
    )
    .default(SANDBOX_WECHATPAY_APIV3_KEY)
    .register(fieldMeta, { secret: true }),
  /** Base of the v3 API: production `https://api.mch.weixin.qq.com/`. */
  WECHATPAY_BASE_URL: url('http://127.0.0.1:8092/'),
  SANDBOX_WECHATPAY_PORT: port(8092),
};
