/**
 * WeChat Pay's APIv3 signatures and encryption, from WeChat Pay's side, on node:crypto alone (not
 * the client's library, so a mistake in how we use it is not mirrored here): it verifies the
 * merchant's `Authorization` with the merchant's public key, signs every answer and notification
 * with its platform key (`Wechatpay-*` headers), and encrypts notification resources with the
 * merchant's APIv3 key (AEAD_AES_256_GCM).
 */
import { createCipheriv, createSign, createVerify, randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random string of `size` letters and digits (WeChat's nonces). */
export function nonceString(size = 32): string {
  return [...randomBytes(size)].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');
}

export interface MerchantAuth {
  mchid: string;
  serialNo: string;
  timestamp: number;
  nonce: string;
}

/**
 * Checks `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",serial_no="…",timestamp="…",
 * nonce_str="…",signature="…"` over `"METHOD\n<path?query>\n<timestamp>\n<nonce>\n<body>\n"`.
 */
export function verifyMerchantRequest(
  header: string | undefined,
  method: string,
  pathAndQuery: string,
  body: string,
  merchantPublicKey: string,
): { ok: true; auth: MerchantAuth } | { ok: false; reason: string } {
  const match = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(header ?? '');
  if (!match) return { ok: false, reason: 'Authorization missing or not WECHATPAY2-SHA256-RSA2048' };
  const params: Record<string, string> = {};
  for (const part of match[1]!.matchAll(/(\w+)="([^"]*)"/g)) params[part[1]!] = part[2]!;
  const { mchid, serial_no: serialNo, timestamp, nonce_str: nonce, signature } = params;
  if (!mchid || !serialNo || !timestamp || !nonce || !signature)
    return { ok: false, reason: 'Authorization lacks mchid, serial_no, timestamp, nonce_str or signature' };
  const message = `${method}\n${pathAndQuery}\n${timestamp}\n${nonce}\n${body}\n`;
  let valid = false;
  try {
    valid = createVerify('RSA-SHA256').update(message, 'utf8').verify(merchantPublicKey, signature, 'base64');
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'signature does not verify' };
  return { ok: true, auth: { mchid, serialNo, timestamp: Number(timestamp), nonce } };
}

/** The four `Wechatpay-*` headers (and a Request-ID) over `"<timestamp>\n<nonce>\n<body>\n"`. */
export function signedHeaders(
  body: string,
  platformPrivateKey: string,
  publicKeyId: string,
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const nonce = nonceString();
  const signature = createSign('RSA-SHA256')
    .update(`${timestamp}\n${nonce}\n${body}\n`, 'utf8')
    .sign(platformPrivateKey, 'base64');
  return {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-signature': signature,
    'wechatpay-serial': publicKeyId,
    'request-id': randomUUID(),
  };
}

/** A notification's encrypted `resource`: AES-256-GCM, the 16-byte tag after the ciphertext, base64. */
export function encryptResource(
  plaintext: string,
  apiV3Key: string,
  associatedData: string,
  originalType: string,
): { original_type: string; algorithm: string; ciphertext: string; associated_data: string; nonce: string } {
  const nonce = nonceString(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    original_type: originalType,
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext: ciphertext.toString('base64'),
    associated_data: associatedData,
    nonce,
  };
}
