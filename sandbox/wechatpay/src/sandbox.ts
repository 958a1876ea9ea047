/**
 * The running WeChat Pay sandbox: its orders and refunds, its faults (the kit's and its own), its
 * keys and notifications, and what a payment and a refund's end do. The API, the shopper's pages
 * and the control API act through it.
 */
import { createLogger, type Logger } from '@payments/platform';
import { chinaRfc3339 } from '@payments/providers';
import { draw, FaultBox, strangerKey } from '@payments/sandbox-kit';
import { WechatpayNotifications } from './notifications';
import {
  SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL,
} from './platform-certificate';
import { WechatpayState, type Refund, type Trade } from './state';
import { BillDownloads } from './statement';
import { refundChannel, transaction } from './views';
import { NO_WECHATPAY_FAULTS, type WechatpayFaults } from './wechatpay-faults';

export interface WechatpaySandboxOptions {
  mchid: string;
  appid: string;
  /** The merchant certificate's serial and public key: requests are verified with it. */
  merchantSerial: string;
  merchantPublicKey: string;
  /**
   * "WeChat Pay's" key pair id and private key (public-key mode): answers to requests that carry
   * `Wechatpay-Serial: <publicKeyId>` and notifications are signed with it.
   */
  publicKeyId: string;
  platformPrivateKey: string;
  /**
   * A platform certificate's serial and private key: answers to requests without that header, and
   * notifications under `notifySignWith: 'platform-cert'`, are signed with it. Default: the sandbox's
   * own (`platform-certificate.ts`).
   */
  platformCertificate?: { serial: string; privateKey: string };
  /** The merchant's APIv3 key: notification resources are encrypted with it. */
  apiV3Key: string;
  log?: Logger;
  /** Compresses WeChat Pay's notification schedule and refund settling for tests: 0.001 → 15 ms, … */
  notifyTimeScale?: number;
  now?: () => number;
}

/** How long a refund stays PROCESSING before the money reaches the shopper's balance. */
const REFUND_SETTLE_MS = 3000;
const REFUND_SUMMARY = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭' } as const;

export class WechatpaySandbox {
  readonly log: Logger;
  readonly now: () => number;
  readonly state = new WechatpayState();
  readonly faults = new FaultBox();
  /** Bills handed out for download (`GET /v3/bill/tradebill`'s tokens). */
  readonly billDownloads = new BillDownloads();
  wechatpayFaults: WechatpayFaults = { ...NO_WECHATPAY_FAULTS };
  /** The platform certificate answers (and, under the fault, notifications) are signed with. */
  readonly certificate: { serial: string; privateKey: string };
  readonly notifications: WechatpayNotifications;
  /** Signs answers while the badResponseSignature fault is on: valid RSA, but not the platform key. */
  readonly stranger = strangerKey();
  private readonly scale: number;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly options: WechatpaySandboxOptions) {
    this.log = options.log ?? createLogger('sandbox-wechatpay', 'silent');
    this.now = options.now ?? Date.now;
    this.scale = options.notifyTimeScale ?? 1;
    this.certificate = options.platformCertificate ?? {
      serial: SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL,
      privateKey: SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY,
    };
    this.notifications = new WechatpayNotifications({
      apiV3Key: options.apiV3Key,
      publicKey: { serial: options.publicKeyId, key: options.platformPrivateKey },
      certificate: { serial: this.certificate.serial, key: this.certificate.privateKey },
      signWith: () => this.wechatpayFaults.notifySignWith,
      notifyTimeScale: this.scale,
      faults: this.faults,
      log: this.log,
      now: this.now,
    });
  }

  /** An order as the API answers it. */
  transaction(trade: Trade) {
    return transaction(trade, this.options, this.now);
  }

  /** The shopper pays (on the page, or through the control API): `TRANSACTION.SUCCESS` is notified. */
  pay(outTradeNo: string) {
    const paid = this.state.pay(outTradeNo, this.now());
    if (paid.ok) {
      this.log.info({ outTradeNo, amount: paid.trade.amount }, 'order paid');
      this.notifications.notify(
        paid.trade.notifyUrl,
        'TRANSACTION.SUCCESS',
        '支付成功',
        'transaction',
        this.transaction(paid.trade),
      );
    }
    return paid;
  }

  /** A refund reached its end (for now: an ABNORMAL one may be applied for): `REFUND.<status>` is notified. */
  refundEnded(outRefundNo: string, status: keyof typeof REFUND_SUMMARY) {
    const done = this.state.finishRefund(outRefundNo, status, this.now());
    const found = done && this.state.findRefund(done.outRefundNo);
    if (!done || !found?.ok) return undefined;
    this.log.info({ outRefundNo: done.outRefundNo, status: done.status }, 'refund settled');
    this.notifications.notify(done.notifyUrl, `REFUND.${status}`, REFUND_SUMMARY[status], 'refund', {
      mchid: this.options.mchid,
      out_trade_no: found.trade.outTradeNo,
      transaction_id: found.trade.transactionId,
      out_refund_no: done.outRefundNo,
      refund_id: done.refundId,
      refund_status: done.status,
      ...(done.successTime !== null ? { success_time: chinaRfc3339(new Date(done.successTime)) } : {}),
      user_received_account: refundChannel(done).user_received_account,
      amount: {
        total: found.trade.amount,
        refund: done.amount,
        payer_total: found.trade.amount,
        payer_refund: done.amount,
      },
    });
    return found;
  }

  /**
   * The money reaches the shopper a moment after the refund is accepted; under the faults it cannot
   * (`refundAbnormalRate`: ABNORMAL, held by WeChat Pay until the merchant acts) or the refund is
   * closed with nothing moved (the kit's `refundFailRate`: CLOSED). An abnormal refund applied for
   * is paid out the same way, always successfully.
   */
  settleRefundLater(refund: Refund, reapplied = false): void {
    const ending = reapplied
      ? 'SUCCESS'
      : draw(this.wechatpayFaults.refundAbnormalRate)
        ? 'ABNORMAL'
        : draw(this.faults.current.refundFailRate)
          ? 'CLOSED'
          : 'SUCCESS';
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.refundEnded(refund.outRefundNo, ending);
      },
      Math.max(1, Math.round(REFUND_SETTLE_MS * this.scale)),
    );
    this.timers.add(timer);
  }

  /** Pending notifications and refund settlements are dropped (closing, or the state cleared). */
  cancelAll(): void {
    this.notifications.cancelAll();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
