/**
 * Our one WeChat Pay client: the official `wechatpay-axios-plugin` (APIv3, platform public-key
 * mode) behind the provider's breaker. The plugin signs every request with the merchant key and
 * verifies every 2xx answer's `Wechatpay-*` signature with WeChat Pay's public key (or, for a
 * merchant migrating to it, a platform certificate's); notifications are verified and decrypted
 * here, with the plugin's own `Rsa`, `Formatter` and `Aes`.
 *
 * WeChat Pay signs an answer with its public key only when the request names it in
 * `Wechatpay-Serial` (otherwise with a platform certificate), and the plugin does not send that
 * header by itself: every request here carries it. Notifications come signed by either key while
 * a merchant migrates (the public key's share growing day by day), so both are accepted.
 */
import type { KeyObject } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import type CircuitBreaker from 'opossum';
import { Aes, Formatter, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import { requireSettings } from '@payments/platform';
import { breakerFailure, ChannelUnavailableError, type ProviderKit } from '@payments/core';
import type { WechatpaySettings } from './settings';
import { meaningOfWechatError } from './status';
import { merchantKey, platformCertificates, platformKey } from './keys';

export type WechatAnswer =
  | { ok: true; status: number; data: unknown }
  /** WeChat Pay refused with a business error (4xx). Not signature-checked by the plugin: never proof on its own. */
  | { ok: false; status: number; code: string; message: string };

export interface WechatCall {
  method: 'GET' | 'POST';
  /** A path under the base URL, `{name}` placeholders filled from `path params` (`v3/pay/…/{out_trade_no}`). */
  path: string;
  pathParams?: Record<string, string>;
  query?: Record<string, string>;
  body?: object;
  /** The answer is a file (`v3/billdownload/file`): its bytes as a stream, as sent (the plugin verifies no signature on it). */
  binary?: boolean;
  /** This call's own timeout, instead of the client's (`download`). */
  timeoutMs?: number;
}

export type WechatpayClientSettings = Pick<
  WechatpaySettings,
  | 'WECHATPAY_MCHID'
  | 'WECHATPAY_APPID'
  | 'WECHATPAY_SERIAL'
  | 'WECHATPAY_PRIVATE_KEY'
  | 'WECHATPAY_PUBLIC_KEY_ID'
  | 'WECHATPAY_PUBLIC_KEY'
  | 'WECHATPAY_APIV3_KEY'
  | 'WECHATPAY_BASE_URL'
> & {
  /** Platform certificates still in use during a migration to the public key: serial → PEM. */
  WECHATPAY_PLATFORM_CERTS?: Readonly<Record<string, string>>;
};

/** How far a signed timestamp may be from our clock, as WeChat Pay and its SDKs allow. */
export const WECHATPAY_MAX_CLOCK_OFFSET_S = 300;

/** The encrypted `resource` of a notification (AEAD_AES_256_GCM with the APIv3 key). */
export interface WechatResource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string;
}

/** The fields of an axios error we read (the plugin throws axios errors; axios is its dependency, not ours). */
interface AxiosFailure {
  isAxiosError?: boolean;
  code?: string;
  response?: { status?: number; data?: unknown };
}

export class WechatpayClient {
  readonly mchid: string;
  readonly appid: string;
  private readonly wxpay: Wechatpay;
  private readonly publicKeyId: string;
  private readonly publicKey: KeyObject;
  /** Every key WeChat Pay may sign with, by the serial it names: the public key's id, certificates' serials. */
  private readonly signers: ReadonlyMap<string, KeyObject>;
  private readonly apiV3Key: Buffer;
  private readonly breaker: CircuitBreaker<[WechatCall], WechatAnswer>;

  constructor(given: WechatpayClientSettings, kit: ProviderKit) {
    const settings = requireSettings(
      given,
      [
        'WECHATPAY_MCHID',
        'WECHATPAY_APPID',
        'WECHATPAY_SERIAL',
        'WECHATPAY_PRIVATE_KEY',
        'WECHATPAY_PUBLIC_KEY_ID',
        'WECHATPAY_PUBLIC_KEY',
        'WECHATPAY_APIV3_KEY',
        'WECHATPAY_BASE_URL',
      ],
      'wechatpay',
    );
    this.mchid = settings.WECHATPAY_MCHID;
    this.appid = settings.WECHATPAY_APPID;
    this.publicKeyId = settings.WECHATPAY_PUBLIC_KEY_ID;
    this.publicKey = platformKey(settings.WECHATPAY_PUBLIC_KEY);
    this.signers = new Map([
      ...platformCertificates(settings.WECHATPAY_PLATFORM_CERTS ?? {}, settings.WECHATPAY_SERIAL),
      [settings.WECHATPAY_PUBLIC_KEY_ID, this.publicKey],
    ]);
    this.apiV3Key = Buffer.from(settings.WECHATPAY_APIV3_KEY, 'utf8');
    this.wxpay = new Wechatpay({
      mchid: settings.WECHATPAY_MCHID,
      serial: settings.WECHATPAY_SERIAL,
      privateKey: merchantKey(settings.WECHATPAY_PRIVATE_KEY),
      // Public-key mode, and the platform certificates of a migration: answers signed under any
      // other serial are refused by the plugin.
      certs: Object.fromEntries(this.signers),
      baseURL: settings.WECHATPAY_BASE_URL,
      timeout: kit.callTimeoutMs,
      httpAgent: new HttpAgent({ keepAlive: true }),
      httpsAgent: new HttpsAgent({ keepAlive: true }),
    });
    this.breaker = kit.breaker('wechatpay', (call: WechatCall) => this.send(call));
  }

  /** One v3 call. Throws `ChannelUnavailableError` for every provider failure. */
  async call(call: WechatCall): Promise<WechatAnswer> {
    try {
      return await this.breaker.fire(call);
    } catch (error) {
      throw breakerFailure(error);
    }
  }

  /**
   * A file (a bill) through the plugin, outside the breaker: its timeout is for API calls, and a
   * day's bill of a busy merchant takes longer to come. Throws `ChannelUnavailableError` as `call`.
   */
  async download(call: WechatCall, timeoutMs = 120_000): Promise<WechatAnswer> {
    return this.send({ ...call, binary: true, timeoutMs });
  }

  /**
   * Why a notification's `Wechatpay-*` headers do not prove it came from WeChat Pay, or null when
   * they do: the serial is our public key's id or a configured platform certificate's, the
   * timestamp within 300 s, the signature over the raw body by that serial's key.
   */
  signatureProblem(
    headers: Record<string, string | string[] | undefined>,
    rawBody: string,
    nowMs: number = Date.now(),
  ): string | null {
    const header = (name: string) => {
      const value = headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const timestamp = header('wechatpay-timestamp');
    const nonce = header('wechatpay-nonce');
    const signature = header('wechatpay-signature');
    const serial = header('wechatpay-serial');
    if (!timestamp || !nonce || !signature || !serial) return 'a Wechatpay-* header is missing';
    const signer = this.signers.get(serial) ?? this.signers.get(serial.toUpperCase());
    if (!signer)
      return `signed under serial ${serial}: neither our public key's id nor a configured platform certificate's`;
    if (!/^\d{1,12}$/.test(timestamp)) return 'Wechatpay-Timestamp is not a number of seconds';
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > WECHATPAY_MAX_CLOCK_OFFSET_S)
      return `Wechatpay-Timestamp is more than ${WECHATPAY_MAX_CLOCK_OFFSET_S} s off`;
    let valid = false;
    try {
      valid = Rsa.verify(Formatter.response(timestamp, nonce, rawBody), signature, signer);
    } catch {
      valid = false; // a malformed signature
    }
    return valid ? null : 'Wechatpay-Signature does not verify';
  }

  /**
   * A sensitive request field (a bank account, a name) encrypted for WeChat Pay: RSA-OAEP with its
   * public key, the key our `Wechatpay-Serial` names.
   */
  encryptSensitive(plaintext: string): string {
    return Rsa.encrypt(plaintext, this.publicKey);
  }

  /** The plaintext of an encrypted resource; throws when it was not encrypted under our APIv3 key. */
  decrypt(resource: WechatResource): string {
    if (resource.algorithm !== 'AEAD_AES_256_GCM') throw new Error(`algorithm ${resource.algorithm}`);
    return Aes.AesGcm.decrypt(
      resource.ciphertext,
      this.apiV3Key,
      resource.nonce,
      resource.associated_data ?? '',
    );
  }

  /** Inside the breaker: business errors are answers; failures (and WeChat Pay's own "try later") count against it. */
  private async send(call: WechatCall): Promise<WechatAnswer> {
    const endpoint = this.wxpay[call.path]!;
    const config = {
      ...call.pathParams,
      // Public-key mode: WeChat Pay signs the answer with the key this names (else a platform certificate).
      headers: { 'Wechatpay-Serial': this.publicKeyId },
      ...(call.query ? { params: call.query } : {}),
      ...(call.binary ? { responseType: 'stream' as const } : {}),
      ...(call.timeoutMs ? { timeout: call.timeoutMs } : {}),
    };
    try {
      const response =
        call.method === 'GET' ? await endpoint.get(config) : await endpoint.post(call.body ?? {}, config);
      return { ok: true, status: response.status, data: response.data as unknown };
    } catch (error) {
      const failure = error as AxiosFailure;
      const status = failure.response?.status ?? 0;
      // The plugin's own refusals of a 2xx answer: headers missing, clock off, unknown serial, bad signature.
      if (failure.code?.startsWith('EV3_'))
        throw new ChannelUnavailableError(`WeChat Pay ${call.path}: answer not believed (${failure.code})`);
      const answered = failure.response?.data;
      const data = (call.binary ? await errorBody(answered) : answered) as
        { code?: unknown; message?: unknown } | undefined;
      if (status >= 400 && status < 500 && typeof data?.code === 'string') {
        if (meaningOfWechatError(data.code) !== 'TRY_LATER')
          return { ok: false, status, code: data.code, message: String(data.message ?? '').slice(0, 200) };
      }
      throw new ChannelUnavailableError(
        `WeChat Pay ${call.path} failed: ${typeof data?.code === 'string' ? data.code : status ? `HTTP ${status}` : (failure.code ?? 'no answer')}`,
      );
    }
  }
}

/** A file download's error answer arrives as a stream of bytes: its JSON (its first 64 KiB), if it is JSON. */
async function errorBody(answered: unknown): Promise<unknown> {
  if (!(answered instanceof Readable)) return answered;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of answered as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > 64 * 1024) break;
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  } finally {
    answered.destroy();
  }
}
