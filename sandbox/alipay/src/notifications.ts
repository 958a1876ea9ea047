/**
 * Alipay's notifications: form POSTs signed RSA2, retried on Alipay's schedule (8 sends within 25
 * hours, then it stops) until answered `success`, under the notification faults.
 */
import { randomBytes } from 'node:crypto';
import { type Logger } from '@payments/platform';
import { toDecimalString } from '@payments/core';
import { chinaDateTime } from '@payments/providers';
import { draw, firstSendDelayMs, NotifySender, scaledSchedule, type FaultBox } from '@payments/sandbox-kit';
import { CNY } from './requests';
import { signV2 } from './signing';
import type { Trade } from './state';

/** Alipay's retries after the first notification: 8 sends within 25 hours, then it stops. */
const ALIPAY_NOTIFY_RETRIES_MS = [4, 10, 10, 60, 120, 360, 900].map((minutes) => minutes * 60_000);

export interface AlipayNotificationsOptions {
  appId: string;
  alipayPrivateKey: string;
  notifyTimeScale: number;
  faults: FaultBox;
  log: Logger;
  now: () => number;
}

export class AlipayNotifications {
  private readonly sender: NotifySender;

  constructor(private readonly options: AlipayNotificationsOptions) {
    this.sender = new NotifySender({
      log: options.log,
      retryDelaysMs: scaledSchedule(ALIPAY_NOTIFY_RETRIES_MS, options.notifyTimeScale),
      stopAfterSchedule: true,
      // Only these seven characters stop Alipay's retries; the HTTP status is not read.
      received: (_status, body) => body === 'success',
    });
  }

  /** One notification in Alipay's form (no empty fields: the SDK's check signs them too). */
  notify(trade: Trade, fields: Record<string, string>): void {
    const { faults, log, now } = this.options;
    if (!trade.notifyUrl) return;
    const notifyId = randomBytes(16).toString('hex');
    if (draw(faults.current.dropNotifyRate)) {
      log.info({ notifyId, outTradeNo: trade.outTradeNo, outcome: 'dropped' }, 'notify dropped by fault');
      return;
    }
    const params = signV2(
      {
        notify_time: chinaDateTime(new Date(now())),
        notify_type: 'trade_status_sync',
        notify_id: notifyId,
        app_id: this.options.appId,
        charset: 'utf-8',
        version: '1.0',
        sign_type: 'RSA2',
        trade_no: trade.tradeNo,
        out_trade_no: trade.outTradeNo,
        total_amount: toDecimalString(trade.amount, CNY),
        subject: trade.subject,
        gmt_create: chinaDateTime(new Date(trade.createdAt)),
        ...fields,
      },
      this.options.alipayPrivateKey,
    );
    const body = new URLSearchParams(params).toString();
    const render = () => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    const copies = faults.current.duplicateNotifies ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1)
      this.sender.send(trade.notifyUrl, notifyId, render, firstSendDelayMs(faults.current));
  }

  paid(trade: Trade): void {
    const amount = toDecimalString(trade.amount, CNY);
    this.notify(trade, {
      trade_status: 'TRADE_SUCCESS',
      receipt_amount: amount,
      buyer_pay_amount: amount,
      gmt_payment: chinaDateTime(new Date(trade.paidAt ?? this.options.now())),
    });
  }

  cancelAll(): void {
    this.sender.cancelAll();
  }
}
