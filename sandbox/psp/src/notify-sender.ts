/**
 * Sends the provider's payment notifies like a real PSP: signed JSON, retried with growing delays
 * until the merchant answers 2xx (CONTRACT 6); the last delay repeats for as long as it takes.
 */
import { setMaxListeners } from 'node:events';
import { errorMessage, httpRequest, signBody, type Logger } from '@payments/common';

/** One controller for every send in flight: each send listens to its signal until it ends. */
function sharedCancel(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export interface NotifySenderOptions {
  secret: string;
  log: Logger;
  /** Delay before each retry; the last one repeats until the notify is answered 2xx. */
  retryDelaysMs?: number[];
  /** Stop retrying after this long (a test's bound); by default never: retried until answered. */
  giveUpAfterMs?: number;
  timeoutMs?: number;
}

interface Delivery {
  url: string;
  /** Fixed across retries; only the signature (and its timestamp) is made anew for each send. */
  rawBody: string;
  notifyId: string;
  startedAt: number;
  attempts: number;
}

export class NotifySender {
  private readonly retryDelaysMs: number[];
  private readonly giveUpAfterMs: number;
  private readonly timeoutMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Aborted (and replaced) by `cancelAll`, so in-flight sends stop and are not retried. */
  private cancel = sharedCancel();

  constructor(private readonly options: NotifySenderOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? [100, 250, 500, 1000, 2000, 5000];
    this.giveUpAfterMs = options.giveUpAfterMs ?? Number.POSITIVE_INFINITY;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Queues one delivery of `body` to `url`, its first send after `delayMs`. */
  send(url: string, notifyId: string, body: object, delayMs = 0): void {
    const delivery: Delivery = {
      url,
      notifyId,
      rawBody: JSON.stringify(body),
      startedAt: Date.now(),
      attempts: 0,
    };
    this.schedule(delivery, delayMs);
  }

  /** Drops every pending delivery (server closing, or the sandbox's state cleared). */
  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.cancel.abort();
    this.cancel = sharedCancel();
  }

  private schedule(delivery: Delivery, delayMs: number): void {
    const cancel = this.cancel.signal;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery, cancel);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(delivery: Delivery, cancel: AbortSignal): Promise<void> {
    const { log, secret } = this.options;
    delivery.attempts += 1;
    const ids = { notifyId: delivery.notifyId, attempt: delivery.attempts, url: delivery.url };
    let failure: string;
    try {
      const { status } = await httpRequest('POST', delivery.url, {
        headers: {
          'content-type': 'application/json',
          'x-sandbox-signature': signBody(secret, delivery.rawBody),
        },
        body: delivery.rawBody,
        timeoutMs: this.timeoutMs,
        signal: cancel,
      });
      if (status >= 200 && status < 300) {
        log.info({ ...ids, outcome: 'delivered', status }, 'notify delivered');
        return;
      }
      failure = `answered ${status}`;
    } catch (error) {
      failure = errorMessage(error);
    }
    if (cancel.aborted) return;
    const delayMs =
      this.retryDelaysMs[Math.min(delivery.attempts - 1, this.retryDelaysMs.length - 1)] ?? 5000;
    if (Date.now() + delayMs - delivery.startedAt > this.giveUpAfterMs) {
      log.warn({ ...ids, outcome: 'gave_up', failure }, 'notify given up');
      return;
    }
    log.info({ ...ids, outcome: 'retry', failure, delayMs }, 'notify failed');
    this.schedule(delivery, delayMs);
  }
}
