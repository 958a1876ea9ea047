/**
 * Our one Alipay client: the official SDK (alipay-sdk v4) behind the provider's breaker. v3 calls
 * go through `curl`, whose answers the SDK verifies (alipay-signature over the raw body); page pay
 * is a signed URL from `pageExecute`.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { AlipayRequestError, AlipaySdk } from 'alipay-sdk';
import type CircuitBreaker from 'opossum';
import { ConfigError, requireSettings } from '@payments/platform';
import { breakerFailure, ChannelUnavailableError, type ProviderKit } from '@payments/core';
import { chinaDateTime } from '../china-time';
import type { AlipaySettings } from './settings';
import { meaningOfAlipayError } from './status';

export type AlipayAnswer =
  | { ok: true; data: Record<string, unknown> }
  /** Alipay refused with a business error (4xx). Unsigned: never proof of anything on its own. */
  | { ok: false; code: string; message: string };

type Settings = Pick<
  AlipaySettings,
  'ALIPAY_APP_ID' | 'ALIPAY_PRIVATE_KEY' | 'ALIPAY_PUBLIC_KEY' | 'ALIPAY_ENDPOINT' | 'ALIPAY_GATEWAY'
>;

/** PKCS#8 or PKCS#1 for the app's key; the SDK rebuilds the PEM from the type we name. */
function privateKeyType(pem: string): 'PKCS8' | 'PKCS1' {
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError('invalid configuration: ALIPAY_PRIVATE_KEY: not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new ConfigError('invalid configuration: ALIPAY_PRIVATE_KEY: must be an RSA key (RSA2)');
  if (pem.includes('-----BEGIN PRIVATE KEY-----')) return 'PKCS8';
  if (pem.includes('-----BEGIN RSA PRIVATE KEY-----')) return 'PKCS1';
  throw new ConfigError('invalid configuration: ALIPAY_PRIVATE_KEY: must be PKCS#8 or PKCS#1 PEM');
}

function checkPublicKey(pem: string): void {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----'))
    throw new ConfigError(
      "invalid configuration: ALIPAY_PUBLIC_KEY: must be Alipay's public key as SPKI PEM (BEGIN PUBLIC KEY)",
    );
  try {
    createPublicKey(pem);
  } catch {
    throw new ConfigError('invalid configuration: ALIPAY_PUBLIC_KEY: not a PEM public key');
  }
}

export class AlipayClient {
  readonly appId: string;
  private readonly sdk: AlipaySdk;
  private readonly breaker: CircuitBreaker<[string, object, ('GET' | 'POST')?], AlipayAnswer>;

  constructor(given: Settings, kit: ProviderKit) {
    const settings = requireSettings(
      given,
      ['ALIPAY_APP_ID', 'ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY', 'ALIPAY_ENDPOINT'],
      'alipay',
    );
    const keyType = privateKeyType(settings.ALIPAY_PRIVATE_KEY);
    checkPublicKey(settings.ALIPAY_PUBLIC_KEY);
    this.appId = settings.ALIPAY_APP_ID;
    const endpoint = settings.ALIPAY_ENDPOINT.replace(/\/+$/, '');
    // A fresh object: the SDK's constructor rewrites the one it is given.
    this.sdk = new AlipaySdk({
      appId: settings.ALIPAY_APP_ID,
      privateKey: settings.ALIPAY_PRIVATE_KEY,
      keyType,
      alipayPublicKey: settings.ALIPAY_PUBLIC_KEY,
      endpoint,
      gateway: settings.ALIPAY_GATEWAY ?? `${endpoint}/gateway.do`,
      timeout: kit.callTimeoutMs,
    });
    this.breaker = kit.breaker('alipay', (path: string, body: object, method: 'GET' | 'POST' = 'POST') =>
      this.curl(path, body, method),
    );
  }

  /** One v3 call (`POST`, JSON body). Throws `ChannelUnavailableError` for every provider failure. */
  async post(path: string, body: object): Promise<AlipayAnswer> {
    try {
      return await this.breaker.fire(path, body);
    } catch (error) {
      throw breakerFailure(error);
    }
  }

  /** One v3 query (`GET`, its parameters in the URL, signed with it). Throws `ChannelUnavailableError` as `post`. */
  async get(path: string, query: Record<string, string>): Promise<AlipayAnswer> {
    try {
      return await this.breaker.fire(path, query, 'GET');
    } catch (error) {
      throw breakerFailure(error);
    }
  }

  /** A signed page-pay URL (GET): no call is made; the trade exists at Alipay once the shopper opens it. */
  pageUrl(bizContent: Record<string, string>, notifyUrl: string, returnUrl: string | undefined): string {
    return this.sdk.pageExecute('alipay.trade.page.pay', 'GET', {
      bizContent,
      notifyUrl,
      ...(returnUrl ? { returnUrl } : {}),
      // The SDK stamps the machine's local time; Alipay reads the timestamp as Beijing time.
      timestamp: chinaDateTime(new Date()),
    }) as string;
  }

  /** Verifies a notification's `sign` over its sorted parameters with Alipay's public key. */
  checkNotifySign(form: Record<string, string>): boolean {
    try {
      return this.sdk.checkNotifySignV2(form);
    } catch {
      return false; // a malformed signature
    }
  }

  /** Inside the breaker: business errors are answers; failures (and Alipay's own "try later") count against it. */
  private async curl(path: string, body: object, method: 'GET' | 'POST'): Promise<AlipayAnswer> {
    try {
      const { data } = await this.sdk.curl<Record<string, unknown>>(
        method,
        path,
        method === 'GET' ? { query: body as Record<string, string> } : { body },
      );
      return { ok: true, data };
    } catch (error) {
      if (error instanceof AlipayRequestError) {
        const status = error.responseHttpStatus ?? 0;
        if (status >= 400 && status < 500 && error.code && meaningOfAlipayError(error.code) !== 'TRY_LATER')
          return { ok: false, code: error.code, message: String(error.message).slice(0, 200) };
        // The SDK's message for a bad signature quotes the whole answer: keep only the code.
        throw new ChannelUnavailableError(
          `Alipay ${path} failed: ${error.code ?? (status ? `HTTP ${status}` : 'no answer')}`,
          { cause: error.cause },
        );
      }
      // A missing response signature (TypeError), an unreadable 5xx (SyntaxError), ...
      throw new ChannelUnavailableError(`Alipay ${path} failed: ${(error as Error).name}`);
    }
  }
}
