/**
 * The keys the WeChat Pay client is given, checked at start: the merchant's API key, WeChat Pay's
 * public key, and the platform certificates a merchant migrating to the public key still accepts.
 * A bad one stops the start naming its variable.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfigError } from '@payments/platform';

/** Checks the merchant's key parses as RSA; the plugin is given the PEM text itself. */
export function merchantKey(pem: string): string {
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError('invalid configuration: WECHATPAY_PRIVATE_KEY: not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new ConfigError(
      'invalid configuration: WECHATPAY_PRIVATE_KEY: must be an RSA key (apiclient_key.pem)',
    );
  return pem;
}

export function platformKey(pem: string): KeyObject {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----'))
    throw new ConfigError(
      "invalid configuration: WECHATPAY_PUBLIC_KEY: must be WeChat Pay's public key as SPKI PEM (BEGIN PUBLIC KEY)",
    );
  try {
    return createPublicKey(pem);
  } catch {
    throw new ConfigError('invalid configuration: WECHATPAY_PUBLIC_KEY: not a PEM public key');
  }
}

const PLATFORM_CERTS = 'invalid configuration: WECHATPAY_PLATFORM_CERTS';

/**
 * The platform certificates' public keys by serial (upper-case hex, as WeChat Pay writes it in
 * `Wechatpay-Serial`): each a certificate PEM (its serial must be the one it is listed under) or
 * the certificate's public key as SPKI PEM.
 */
export function platformCertificates(
  certs: Readonly<Record<string, string>>,
  merchantSerial: string,
): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const [listed, pem] of Object.entries(certs)) {
    if (!/^[0-9A-Fa-f]{8,40}$/.test(listed))
      throw new ConfigError(`${PLATFORM_CERTS}: "${listed}" is not a platform certificate serial (hex)`);
    const serial = listed.toUpperCase();
    if (serial === merchantSerial.toUpperCase())
      throw new ConfigError(`${PLATFORM_CERTS}: ${listed} is the merchant's own certificate serial`);
    let key: KeyObject;
    if (pem.includes('-----BEGIN CERTIFICATE-----')) {
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(pem);
      } catch {
        throw new ConfigError(`${PLATFORM_CERTS}: ${listed}: not a PEM certificate`);
      }
      if (certificate.serialNumber.toUpperCase() !== serial)
        throw new ConfigError(
          `${PLATFORM_CERTS}: the certificate listed under ${listed} has serial ${certificate.serialNumber}`,
        );
      key = certificate.publicKey;
    } else if (pem.includes('-----BEGIN PUBLIC KEY-----')) {
      try {
        key = createPublicKey(pem);
      } catch {
        throw new ConfigError(`${PLATFORM_CERTS}: ${listed}: not a PEM public key`);
      }
    } else {
      throw new ConfigError(
        `${PLATFORM_CERTS}: ${listed}: must be a certificate PEM or an SPKI public key PEM`,
      );
    }
    if (key.asymmetricKeyType !== 'rsa')
      throw new ConfigError(`${PLATFORM_CERTS}: ${listed}: must be an RSA key`);
    keys.set(serial, key);
  }
  return keys;
}
