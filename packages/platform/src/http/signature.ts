import { createHmac, timingSafeEqual } from 'node:crypto';

/** Seconds a signed request may be away from now before it is refused (CONTRACT 3). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (CONTRACT 5 and 6). */
export function signBody(
  secret: string,
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  const mac = createHmac('sha256', secret).update(`${nowSeconds}.${rawBody}`).digest('hex');
  return `t=${nowSeconds},v1=${mac}`;
}

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

export function verifySignature(
  secret: string,
  rawBody: string,
  header: string | undefined,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (!header) return { valid: false, reason: 'missing signature' };
  let t: string | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (name === 't') t = value;
    // Several v1 values during a secret rotation: any one that matches will do.
    else if (name === 'v1') candidates.push(value);
  }
  const signatures = candidates.filter((v1) => /^[0-9a-f]{64}$/.test(v1));
  if (!t || !/^\d+$/.test(t) || signatures.length === 0) {
    return { valid: false, reason: 'malformed signature' };
  }
  if (Math.abs(nowSeconds - Number(t)) > SIGNATURE_TOLERANCE_SECONDS) {
    return { valid: false, reason: 'signature timestamp outside tolerance' };
  }
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  let matched = false;
  for (const v1 of signatures) matched = timingSafeEqual(expected, Buffer.from(v1, 'hex')) || matched;
  return matched ? { valid: true } : { valid: false, reason: 'signature mismatch' };
}
