/**
 * Alipay's signatures, from Alipay's side: it verifies the app's requests (v3 `authorization`,
 * v2 `sign` over the sorted parameters) with the app's public key, and signs its answers (v3
 * `alipay-signature`), notifications and page returns with its own private key. RSA2 throughout.
 */
import { createSign, createVerify, randomUUID } from 'node:crypto';

const rsa2Sign = (text: string, privateKey: string) =>
  createSign('RSA-SHA256').update(text, 'utf8').sign(privateKey, 'base64');

function rsa2Verify(text: string, signature: string, publicKey: string): boolean {
  try {
    return createVerify('RSA-SHA256').update(text, 'utf8').verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

export interface V3Auth {
  appId: string;
  nonce: string;
  timestamp: number;
}

/**
 * Checks `authorization: ALIPAY-SHA256withRSA app_id=…,nonce=…,timestamp=…,sign=…` over
 * `"<auth params>\nMETHOD\n<path?query>\n<body>\n"`. Returns why it fails, or the parameters.
 */
export function verifyV3Request(
  header: string | undefined,
  method: string,
  pathAndQuery: string,
  body: string,
  appPublicKey: string,
): { ok: true; auth: V3Auth } | { ok: false; reason: string } {
  const match = /^ALIPAY-SHA256withRSA (.+),sign=([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return { ok: false, reason: 'authorization missing or not ALIPAY-SHA256withRSA' };
  const authString = match[1]!;
  const params = Object.fromEntries(
    authString
      .split(',')
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  if (!params.app_id || !params.nonce || !/^\d{13}$/.test(params.timestamp ?? ''))
    return { ok: false, reason: 'authorization lacks app_id, nonce or timestamp' };
  const signed = `${authString}\n${method}\n${pathAndQuery}\n${body}\n`;
  if (!rsa2Verify(signed, match[2]!, appPublicKey)) return { ok: false, reason: 'sign does not verify' };
  return {
    ok: true,
    auth: { appId: params.app_id, nonce: params.nonce, timestamp: Number(params.timestamp) },
  };
}

/** The v3 answer's signature headers over `"ts\nnonce\nbody\n"`. */
export function signV3Response(body: string, privateKey: string): Record<string, string> {
  const timestamp = String(Date.now());
  const nonce = randomUUID().replaceAll('-', '');
  return {
    'alipay-timestamp': timestamp,
    'alipay-nonce': nonce,
    'alipay-signature': rsa2Sign(`${timestamp}\n${nonce}\n${body}\n`, privateKey),
  };
}

/** `k=v&…` over the sorted parameters but `excluded`, raw values: the v2 signing string. */
function v2Content(params: Record<string, string>, excluded: readonly string[]): string {
  return Object.keys(params)
    .filter((key) => !excluded.includes(key))
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
}

/** A v2 request (page pay) is signed over every parameter but `sign`. */
export function verifyV2Request(params: Record<string, string>, appPublicKey: string): boolean {
  return Boolean(params.sign) && rsa2Verify(v2Content(params, ['sign']), params.sign!, appPublicKey);
}

/** Notifications and page returns are signed over every parameter but `sign` and `sign_type`. */
export function signV2(params: Record<string, string>, privateKey: string): Record<string, string> {
  return { ...params, sign: rsa2Sign(v2Content(params, ['sign', 'sign_type']), privateKey) };
}
