/**
 * Stripe's webhooks: each event to the account's endpoint, `Stripe-Signature: t=…,v1=…`
 * (HMAC-SHA256) signed anew for each send, retried on a Stripe-like schedule (up to three days,
 * backing off) until answered 2xx, under the notification faults.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from '@payments/platform';
import { draw, firstSendDelayMs, NotifySender, scaledSchedule, type FaultBox } from '@payments/sandbox-kit';

/** Stripe retries an undelivered event for up to three days, backing off. */
const STRIPE_WEBHOOK_RETRIES_MS = [60, 300, 1800, 7200, 18_000, 36_000, 36_000, 36_000, 36_000, 36_000].map(
  (seconds) => seconds * 1000,
);
export const API_VERSION = '2026-10-28.endive';

export interface StripeWebhooksOptions {
  webhookSecret: string;
  /** Where webhooks go (the endpoint configured for the account), asked at each event. */
  webhookUrl: () => string | undefined;
  notifyTimeScale: number;
  faults: FaultBox;
  log: Logger;
  /** The real clock (ms): signatures go by it. */
  now: () => number;
  /** The sandbox's clock (s): events are created by it. */
  nowS: () => number;
}

export class StripeWebhooks {
  private readonly sender: NotifySender;

  constructor(private readonly options: StripeWebhooksOptions) {
    this.sender = new NotifySender({
      log: options.log,
      retryDelaysMs: scaledSchedule(STRIPE_WEBHOOK_RETRIES_MS, options.notifyTimeScale),
      stopAfterSchedule: true,
    });
  }

  /** One event to the account's endpoint: signed anew for each send, as Stripe signs. */
  emit(type: string, object: unknown): void {
    const { faults, log, now, nowS } = this.options;
    const url = this.options.webhookUrl();
    const id = `evt_${randomBytes(12).toString('base64url')}`;
    if (!url) return;
    if (draw(faults.current.dropNotifyRate)) {
      log.info({ eventId: id, type, outcome: 'dropped' }, 'webhook dropped by fault');
      return;
    }
    const payload = JSON.stringify({
      id,
      object: 'event',
      api_version: API_VERSION,
      created: nowS(),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    });
    const render = () => {
      // Signed at the moment of sending by the real clock (the receiver checks it against its own).
      const timestamp = Math.floor(now() / 1000);
      const signature = createHmac('sha256', this.options.webhookSecret)
        .update(`${timestamp}.${payload}`)
        .digest('hex');
      return {
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': `t=${timestamp},v1=${signature}`,
        },
        body: payload,
      };
    };
    const copies = faults.current.duplicateNotifies ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1)
      this.sender.send(url, id, render, firstSendDelayMs(faults.current));
  }

  cancelAll(): void {
    this.sender.cancelAll();
  }
}
