/** A merchant endpoint for the PSP's notifies: records each request raw, answers as told. */
import { NotificationReceiver, type Received, type ReceiverAnswer } from '@payments/testkit';

type Notify = {
  signature: string | undefined;
  contentType: string | undefined;
  body: Record<string, unknown>;
  at: number;
};

export type ReceivedNotify = Received<Notify>;

export class NotifyReceiver extends NotificationReceiver<Notify> {
  /** Statuses to answer, in order; once empty every request gets 200. */
  answers: number[] = [];

  constructor() {
    // The body is kept as sent: the signature covers the raw bytes, not a re-serialisation.
    super({ path: '/notify', contentType: 'application/json' });
  }

  protected read(rawBody: string, headers: Record<string, string | string[] | undefined>): Notify {
    const signature = headers['x-sandbox-signature'];
    return {
      signature: Array.isArray(signature) ? signature[0] : signature,
      contentType: headers['content-type'] as string | undefined,
      body: JSON.parse(rawBody) as Record<string, unknown>,
      at: Date.now(),
    };
  }

  protected answer(): ReceiverAnswer {
    return { status: this.answers.shift() ?? 200, body: { ok: true } };
  }

  for(channelOrderNo: string): ReceivedNotify[] {
    return this.received.filter((notify) => notify.body.channelOrderNo === channelOrderNo);
  }

  reset(): void {
    this.received.length = 0;
    this.answers = [];
  }
}
