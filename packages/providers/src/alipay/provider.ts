/**
 * Alipay as one provider (CONTRACT 9): one client, one breaker (`alipay`), one notification
 * route (`/v1/notify/alipay`, form-encoded), the channels `alipay-qr` and `alipay-page`.
 */
import {
  defineProvider,
  NotifyRejectedError,
  type NotificationAnswer,
  type NotificationRequest,
  type NotificationVerdict,
  type PaymentProvider,
  type ProviderNotification,
  type ProviderKit,
} from '@payments/core';
import { AlipayChannel, ALIPAY_CHANNELS, type AlipayChannelName } from './channel';
import { AlipayClient } from './client';
import { AlipayStatements } from './statement';
import { alipaySection, type AlipaySettings } from './settings';
import { alipayTradeOutcome, alipayTradeStatus } from './status';

/** The form's fields, refusing a field given twice (which copy was signed would be ambiguous). */
function readForm(rawBody: Buffer): Record<string, string> {
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawBody.toString('utf8'))) {
    if (name in form) throw new NotifyRejectedError(400, `field ${name} given twice`);
    form[name] = value;
  }
  return form;
}

export class AlipayProvider implements PaymentProvider {
  readonly name = 'alipay';
  readonly notifyRoutes = ['alipay'] as const;
  readonly channels: AlipayChannel[];
  readonly statements: AlipayStatements;
  private readonly client: AlipayClient;

  constructor(config: AlipaySettings, kit: ProviderKit, channelNames: readonly string[]) {
    this.client = new AlipayClient(config, kit);
    this.channels = channelNames.map((name) => new AlipayChannel(name as AlipayChannelName, this.client));
    this.statements = new AlipayStatements(this.client);
  }

  async verifyNotification(request: NotificationRequest): Promise<ProviderNotification> {
    const form = readForm(request.rawBody);
    // The signature first: nothing of the body is read as true before it holds.
    if (!this.client.checkNotifySign(form)) throw new NotifyRejectedError(401, 'bad or missing sign');
    if (form.app_id !== this.client.appId)
      throw new NotifyRejectedError(401, `app_id ${form.app_id ?? '(none)'} is not ours`);
    const status = alipayTradeStatus.safeParse(form.trade_status);
    if (!form.out_trade_no || !status.success)
      throw new NotifyRejectedError(400, 'out_trade_no or trade_status missing or unknown');
    // About a refund (partial: TRADE_SUCCESS; full: TRADE_CLOSED): never un-pays or re-pays the order.
    if (form.refund_fee !== undefined || form.gmt_refund !== undefined) {
      return form.out_biz_no
        ? { kind: 'refund', refunds: [{ refundNo: form.out_biz_no, status: 'SUCCESS' }] }
        : { kind: 'ignored', reason: `refund of ${form.out_trade_no} without out_biz_no` };
    }
    let outcome;
    try {
      outcome = alipayTradeOutcome({
        trade_status: status.data,
        total_amount: form.total_amount ?? '',
        trade_no: form.trade_no,
        paid_at: form.gmt_payment,
      });
    } catch (error) {
      throw new NotifyRejectedError(400, `unreadable notification: ${(error as Error).message}`);
    }
    return {
      kind: 'payment',
      channelOrderNo: form.out_trade_no,
      providerTradeNo: form.trade_no ?? null,
      outcome,
    };
  }

  describeUnverified(request: NotificationRequest) {
    const form = new URLSearchParams(request.rawBody.toString('utf8'));
    return { claimedReference: form.get('out_trade_no'), signature: form.get('sign') };
  }

  /** Alipay reads the body only: the literal `success` stops its retries, anything else repeats them. */
  acknowledge(verdict: NotificationVerdict): NotificationAnswer {
    return verdict.accepted
      ? { status: 200, contentType: 'text/plain', body: 'success' }
      : { status: verdict.status, contentType: 'text/plain', body: 'fail' };
  }
}

export const alipayProvider = defineProvider({
  name: 'alipay',
  channels: ALIPAY_CHANNELS,
  section: alipaySection,
  signatureHeaders: ['alipay-signature'],
  create: (settings, kit, channels) => new AlipayProvider(settings, kit, channels),
});
