/**
 * The running Alipay sandbox: its trades, faults and notifications, and what a payment does. The
 * API, the shopper's pages and the control API act through it.
 */
import { createLogger, type Logger } from '@payments/platform';
import { toDecimalString } from '@payments/core';
import { chinaDateTime } from '@payments/providers';
import { FaultBox, strangerKey } from '@payments/sandbox-kit';
import { NO_ALIPAY_FAULTS, type AlipayFaults } from './alipay-faults';
import { AlipayNotifications } from './notifications';
import { CNY } from './requests';
import { AlipayState, type Trade } from './state';
import { BillLinks } from './statement';

export interface AlipaySandboxOptions {
  appId: string;
  /** The app's public key: requests are verified with it. */
  appPublicKey: string;
  /** "Alipay's" private key: answers, notifications and returns are signed with it. */
  alipayPrivateKey: string;
  log?: Logger;
  /** Compresses Alipay's notification schedule (4m, 10m, 10m, 1h, 2h, 6h, 15h) for tests: 0.001 → 240 ms, … */
  notifyTimeScale?: number;
  /** Where a shopper's browser reaches this sandbox (QR codes point there); default: the Host the API was called on. */
  publicUrl?: string;
  now?: () => number;
}

export class AlipaySandbox {
  readonly log: Logger;
  readonly now: () => number;
  readonly state = new AlipayState();
  readonly faults = new FaultBox();
  alipayFaults: AlipayFaults = { ...NO_ALIPAY_FAULTS };
  /** Bill links handed out by the bill query, each valid 30 s. */
  readonly billLinks = new BillLinks();
  readonly notifications: AlipayNotifications;
  /** Signs answers while the badResponseSignature fault is on: valid RSA2, but not Alipay's key. */
  readonly stranger = strangerKey();

  constructor(readonly options: AlipaySandboxOptions) {
    this.log = options.log ?? createLogger('sandbox-alipay', 'silent');
    this.now = options.now ?? Date.now;
    this.notifications = new AlipayNotifications({
      appId: options.appId,
      alipayPrivateKey: options.alipayPrivateKey,
      notifyTimeScale: options.notifyTimeScale ?? 1,
      faults: this.faults,
      log: this.log,
      now: this.now,
    });
  }

  /** A trade as `alipay.trade.query` (and the control API's pay) answers it. */
  tradeAnswer(trade: Trade) {
    const status = this.state.statusOf(trade, this.now());
    return {
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      trade_status: status,
      total_amount: toDecimalString(trade.amount, CNY),
      ...(trade.paidAt !== null
        ? {
            send_pay_date: chinaDateTime(new Date(trade.paidAt)),
            buyer_pay_amount: toDecimalString(trade.amount, CNY),
          }
        : {}),
    };
  }

  /** The shopper pays (on the page, or through the control API): notified once paid. */
  pay(trade: Trade) {
    const paid = this.state.pay(trade.outTradeNo, this.now());
    if (paid.ok) {
      this.log.info({ outTradeNo: trade.outTradeNo, amount: trade.amount }, 'trade paid');
      this.notifications.paid(paid.trade);
    }
    return paid;
  }
}
