/**
 * Sends a sandbox's notifications the way its provider does: rendered anew for each send (a
 * fresh signature and timestamp), retried on the provider's own schedule until the merchant's
 * answer is one the provider takes as received. The last delay repeats unless `giveUpAfterMs`
 * (or a schedule that ends, see `stopAfterSchedule`) says otherwise.
 */
import { setMaxListeners } from 'node:events';
import { errorMessage, httpRequest, type Logger } from '@payments/platform';

/** One controller for every send in flight: each send listens to its signal until it ends. */
function sharedCancel(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export interface RenderedNotification {
  headers: Record<string, string>;
  body: string;
}

export interface NotifySenderOptions {
  log: Logger;
  /** Delay before each retry; the last one repeats until the notification is received. */
  retryDelaysMs?: number[];
  /** The provider's retries end with its schedule (Alipay: 8 sends in 25 hours). */
  stopAfterSchedule?: boolean;
  /** Stop retrying after this long (a test's bound); by default never: retried until received. */
  giveUpAfterMs?: number;
  timeoutMs?: number;
  /** What the provider takes as "received" (default: any 2xx). */
  received?: (status: number, body: string) => boolean;
}

interface Delivery {
  url: string;
  notifyId: string;
  render: () => RenderedNotification;
  startedAt: number;
  attempts: number;
}

const any2xx = (status: number) => status >= 200 && status < 300;

export class NotifySender {
  private readonly retryDelaysMs: number[];
  private readonly giveUpAfterMs: number;
  private readonly timeoutMs: number;
  private readonly received: (status: number, body: string) => boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Aborted (and replaced) by `cancelAll`, so in-flight sends stop and are not retried. */
  private cancel = sharedCancel();

  constructor(private readonly options: NotifySenderOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? [100, 250, 500, 1000, 2000, 5000];
    this.giveUpAfterMs = options.giveUpAfterMs ?? Number.POSITIVE_INFINITY;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.received = options.received ?? any2xx;
  }

  /** Queues one notification to `url`, its first send after `delayMs`; `render` is called for every send. */
  send(url: string, notifyId: string, render: () => RenderedNotification, delayMs = 0): void {
    this.schedule({ url, notifyId, render, startedAt: Date.now(), attempts: 0 }, delayMs);
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
    const { log } = this.options;
    delivery.attempts += 1;
    const ids = { notifyId: delivery.notifyId, attempt: delivery.attempts, url: delivery.url };
    let failure: string;
    try {
      const { headers, body } = delivery.render();
      const answer = await httpRequest('POST', delivery.url, {
        headers,
        body,
        timeoutMs: this.timeoutMs,
        signal: cancel,
      });
      if (this.received(answer.status, answer.text)) {
        log.info({ ...ids, outcome: 'delivered', status: answer.status }, 'notify delivered');
        return;
      }
      failure = `answered ${answer.status}`;
    } catch (error) {
      failure = errorMessage(error);
    }
    if (cancel.aborted) return;
    const index = delivery.attempts - 1;
    if (this.options.stopAfterSchedule && index >= this.retryDelaysMs.length) {
      log.warn({ ...ids, outcome: 'gave_up', failure }, 'notify schedule ended');
      return;
    }
    const delayMs = this.retryDelaysMs[Math.min(index, this.retryDelaysMs.length - 1)] ?? 5000;
    if (Date.now() + delayMs - delivery.startedAt > this.giveUpAfterMs) {
      log.warn({ ...ids, outcome: 'gave_up', failure }, 'notify given up');
      return;
    }
    log.info({ ...ids, outcome: 'retry', failure, delayMs }, 'notify failed');
    this.schedule(delivery, delayMs);
  }
}

/** A provider's retry schedule, compressed for tests by `scale` (`SANDBOX_NOTIFY_TIME_SCALE`, e.g. 0.001). */
export function scaledSchedule(delaysMs: readonly number[], scale: number): number[] {
  return delaysMs.map((delay) => Math.max(1, Math.round(delay * scale)));
}
