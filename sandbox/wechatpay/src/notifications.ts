/**
 * WeChat Pay's notifications: JSON with an AEAD_AES_256_GCM resource, signed, retried on WeChat
 * Pay's schedule (16 sends within 24 h 4 min, then it stops) until answered 2xx, under the
 * notification faults.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@payments/platform';
import { chinaRfc3339 } from '@payments/providers';
import { draw, firstSendDelayMs, NotifySender, scaledSchedule, type FaultBox } from '@payments/sandbox-kit';
import { encryptResource, signedHeaders } from './signing';
import type { WechatpayFaults } from './wechatpay-faults';

/** WeChat Pay's retries after the first notification: 16 sends within 24 h 4 min, then it stops. */
const WECHATPAY_NOTIFY_RETRIES_MS = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
].map((seconds) => seconds * 1000);

/** A key WeChat Pay signs with, under its serial (or public key id). */
export interface Signer {
  serial: string;
  key: string;
}

export interface WechatpayNotificationsOptions {
  /** The merchant's APIv3 key: resources are encrypted with it. */
  apiV3Key: string;
  /** WeChat Pay's public key (its id and private half), and a platform certificate's. */
  publicKey: Signer;
  certificate: Signer;
  /** Which of the two signs now (the `notifySignWith` fault). */
  signWith: () => WechatpayFaults['notifySignWith'];
  notifyTimeScale: number;
  faults: FaultBox;
  log: Logger;
  now: () => number;
}

export class WechatpayNotifications {
  private readonly sender: NotifySender;

  constructor(private readonly options: WechatpayNotificationsOptions) {
    this.sender = new NotifySender({
      log: options.log,
      retryDelaysMs: scaledSchedule(WECHATPAY_NOTIFY_RETRIES_MS, options.notifyTimeScale),
      stopAfterSchedule: true,
    });
  }

  /** One notification: the resource encrypted once, the headers signed anew for each send. */
  notify(url: string | null, eventType: string, summary: string, originalType: string, plain: object): void {
    const { faults, log, now } = this.options;
    if (!url) return;
    const id = randomUUID();
    if (draw(faults.current.dropNotifyRate)) {
      log.info({ notifyId: id, eventType, outcome: 'dropped' }, 'notify dropped by fault');
      return;
    }
    const body = JSON.stringify({
      id,
      create_time: chinaRfc3339(new Date(now())),
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary,
      resource: encryptResource(JSON.stringify(plain), this.options.apiV3Key, originalType, originalType),
    });
    // During a migration WeChat Pay signs notifications with either key (its share of the public
    // key growing day by day): the fault picks the platform certificate's.
    const signer =
      this.options.signWith() === 'platform-cert' ? this.options.certificate : this.options.publicKey;
    const render = () => ({
      headers: {
        'content-type': 'application/json',
        ...signedHeaders(body, signer.key, signer.serial, now()),
      },
      body,
    });
    const copies = faults.current.duplicateNotifies ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1)
      this.sender.send(url, id, render, firstSendDelayMs(faults.current));
  }

  cancelAll(): void {
    this.sender.cancelAll();
  }
}
