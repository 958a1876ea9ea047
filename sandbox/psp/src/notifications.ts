/** The PSP's notification of a paid trade, sent under the notification faults (dropped, duplicated, delayed). */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@payments/platform';
import { draw, firstSendDelayMs, type FaultBox } from '@payments/sandbox-kit';
import { iso } from './answers';
import type { NotifySender } from './notify-sender';
import type { Trade } from './state';

export class PaidNotifications {
  constructor(
    private readonly sender: NotifySender,
    private readonly faults: FaultBox,
    private readonly log: Logger,
  ) {}

  paid(trade: Trade): void {
    const { faults, log } = this;
    const notifyId = `ntf_${randomBytes(8).toString('hex')}`;
    const ids = { notifyId, channelOrderNo: trade.channelOrderNo, merchantOrderNo: trade.merchantOrderNo };
    if (faults.hidden.has(trade.channelOrderNo, trade.merchantOrderNo)) {
      log.info({ ...ids, outcome: 'hidden' }, 'notify of a hidden trade never sent');
      return;
    }
    if (draw(faults.current.dropNotifyRate)) {
      log.info({ ...ids, outcome: 'dropped' }, 'notify dropped by fault');
      return;
    }
    const body = {
      notifyId,
      channelOrderNo: trade.channelOrderNo,
      tradeNo: trade.tradeNo,
      merchantOrderNo: trade.merchantOrderNo,
      channel: trade.channel,
      amount: trade.amount,
      currency: trade.currency,
      status: 'PAID',
      paidAt: iso(trade.paidAt),
    };
    // A duplicate is the same notification (same notifyId) delivered again, as real providers do.
    const copies = faults.current.duplicateNotifies ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1)
      this.sender.send(trade.notifyUrl, notifyId, body, firstSendDelayMs(faults.current));
  }
}
