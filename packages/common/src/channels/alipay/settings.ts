/** Alipay's configuration section (CONTRACT 9); its defaults are the local sandbox's. */
import { z } from 'zod';
import { keyText, port, url } from '../../config/fields';
import { SANDBOX_ALIPAY_APP_ID, SANDBOX_ALIPAY_PUBLIC_KEY, SANDBOX_APP_PRIVATE_KEY } from './test-keys';

export const alipaySettings = {
  ALIPAY_APP_ID: z
    .string()
    .regex(/^\d{16}$/, 'must be the 16-digit app id Alipay gave the app')
    .default(SANDBOX_ALIPAY_APP_ID),
  /** The app's RSA2 private key, PKCS#8 or PKCS#1 PEM. */
  ALIPAY_PRIVATE_KEY: keyText(SANDBOX_APP_PRIVATE_KEY, { secret: true }),
  /** Alipay's public key (SPKI PEM), not the app's. */
  ALIPAY_PUBLIC_KEY: keyText(SANDBOX_ALIPAY_PUBLIC_KEY, { secret: false }),
  /** Base of the v3 API: production `https://openapi.alipay.com`. */
  ALIPAY_ENDPOINT: url('http://127.0.0.1:8091'),
  /** Page pay's gateway; default `${ALIPAY_ENDPOINT}/gateway.do`. */
  ALIPAY_GATEWAY: z.url().optional(),
  SANDBOX_ALIPAY_PORT: port(8091),
};
