/**
 * WeChat Pay as one provider (CONTRACT 9): one client, one breaker (`wechatpay`), one notification
 * route (`/v1/notify/wechatpay`, JSON with an encrypted resource), the channel `wechat-native`.
 */
import { z } from 'zod';
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
import { WECHATPAY_CHANNELS, WechatNativeChannel } from './channel';
import { WechatpayClient, type WechatpayClientSettings } from './client';
import { wechatpaySection } from './settings';
import { WechatpayStatements } from './statement';
import {
  WECHAT_REFUND_EVENTS,
  wechatRefundOutcome,
  wechatRefundStatus,
  wechatTradeOutcome,
  wechatTransaction,
} from './status';

const envelope = z.object({
  id: z.string(),
  event_type: z.string(),
  resource: z.object({
    algorithm: z.string(),
    ciphertext: z.string(),
    nonce: z.string(),
    associated_data: z.string().optional(),
  }),
});
const refundResource = z.object({
  mchid: z.string(),
  out_trade_no: z.string(),
  out_refund_no: z.string(),
  refund_status: wechatRefundStatus,
});

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new NotifyRejectedError(400, `${what} is not JSON`);
  }
}

function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new NotifyRejectedError(400, `unreadable ${what}: ${parsed.error.message}`);
  return parsed.data;
}

export class WechatpayProvider implements PaymentProvider {
  readonly name = 'wechatpay';
  readonly notifyRoutes = ['wechatpay'] as const;
  readonly channels: WechatNativeChannel[];
  readonly statements: WechatpayStatements;
  private readonly client: WechatpayClient;

  constructor(config: WechatpayClientSettings, kit: ProviderKit) {
    this.client = new WechatpayClient(config, kit);
    this.channels = [new WechatNativeChannel(this.client)];
    this.statements = new WechatpayStatements(this.client);
  }

  async verifyNotification(request: NotificationRequest): Promise<ProviderNotification> {
    const rawBody = request.rawBody.toString('utf8');
    // The signature first: nothing of the body is read as true before it holds.
    const problem = this.client.signatureProblem(request.headers, rawBody);
    if (problem) throw new NotifyRejectedError(401, problem);
    const event = parse(envelope, json(rawBody, 'body'), 'notification');
    let plaintext;
    try {
      plaintext = this.client.decrypt(event.resource);
    } catch {
      throw new NotifyRejectedError(401, 'resource does not decrypt under our APIv3 key');
    }
    const resource = json(plaintext, 'decrypted resource');

    if (event.event_type.startsWith('TRANSACTION.')) {
      const trade = parse(wechatTransaction, resource, 'transaction');
      if (trade.mchid !== this.client.mchid || trade.appid !== this.client.appid)
        throw new NotifyRejectedError(401, `transaction of ${trade.mchid}/${trade.appid} is not ours`);
      let outcome;
      try {
        outcome = wechatTradeOutcome(trade);
      } catch (error) {
        throw new NotifyRejectedError(400, `unreadable transaction: ${(error as Error).message}`);
      }
      return {
        kind: 'payment',
        channelOrderNo: trade.out_trade_no,
        providerTradeNo: trade.transaction_id ?? null,
        outcome,
      };
    }
    const reported = WECHAT_REFUND_EVENTS[event.event_type];
    if (reported) {
      const refund = parse(refundResource, resource, 'refund');
      if (refund.mchid !== this.client.mchid)
        throw new NotifyRejectedError(401, `refund of ${refund.mchid} is not ours`);
      if (refund.refund_status !== reported)
        throw new NotifyRejectedError(
          400,
          `${event.event_type} carries refund_status ${refund.refund_status}`,
        );
      return {
        kind: 'refund',
        refunds: [{ refundNo: refund.out_refund_no, status: wechatRefundOutcome(refund.refund_status) }],
      };
    }
    return { kind: 'ignored', reason: `event type ${event.event_type}` };
  }

  /** The body is encrypted: an unverified one claims no reference we could read. */
  describeUnverified(request: NotificationRequest) {
    const signature = request.headers['wechatpay-signature'];
    return { claimedReference: null, signature: typeof signature === 'string' ? signature : null };
  }

  /** WeChat Pay takes any 2xx as received; anything else (with its FAIL body) repeats the notification. */
  acknowledge(verdict: NotificationVerdict): NotificationAnswer {
    return verdict.accepted
      ? { status: 204, contentType: 'application/json', body: '' }
      : {
          status: verdict.status,
          contentType: 'application/json',
          body: JSON.stringify({ code: 'FAIL', message: verdict.message }),
        };
  }
}

export const wechatpayProvider = defineProvider({
  name: 'wechatpay',
  channels: WECHATPAY_CHANNELS,
  section: wechatpaySection,
  signatureHeaders: ['wechatpay-signature'],
  create: (settings, kit) => new WechatpayProvider(settings, kit),
});
