/**
 * The PSP's notifications (CONTRACT 6): JSON signed with `X-Sandbox-Signature` in the format of
 * CONTRACT 5, keyed by PSP_SECRET, sent by the kit's sender until answered 2xx.
 */
import { signBody } from '@payments/platform';
import { NotifySender as KitSender, type NotifySenderOptions } from '@payments/sandbox-kit';

export class NotifySender {
  private readonly sender: KitSender;

  constructor(private readonly options: Omit<NotifySenderOptions, 'received'> & { secret: string }) {
    this.sender = new KitSender(options);
  }

  /** Queues one notification of `body`; the same bytes every time, a fresh signature for each send. */
  send(url: string, notifyId: string, body: object, delayMs = 0): void {
    const rawBody = JSON.stringify(body);
    this.sender.send(
      url,
      notifyId,
      () => ({
        headers: {
          'content-type': 'application/json',
          'x-sandbox-signature': signBody(this.options.secret, rawBody),
        },
        body: rawBody,
      }),
      delayMs,
    );
  }

  cancelAll(): void {
    this.sender.cancelAll();
  }
}
