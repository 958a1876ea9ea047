/**
 * The running PSP sandbox: its trades, faults and timers, and what happens when the shopper pays
 * or a refund is accepted. The API, the shopper's pages and the control API act through it.
 */
import { createLogger, type Logger } from '@payments/platform';
import { draw, FaultBox } from '@payments/sandbox-kit';
import { tradeView } from './answers';
import { NotifySender } from './notify-sender';
import { PaidNotifications } from './notifications';
import { NO_STATEMENT_FAULTS, type StatementFaults } from './statement';
import { PspState, type Trade } from './state';

export interface PspServerOptions {
  secret: string;
  log?: Logger;
  /** How long a new refund stays PROCESSING. */
  refundDelayMs?: number;
  /** Where a shopper's browser reaches this sandbox (pay pages); default: the Host its API was first called on. */
  publicUrl?: string;
  /** Clock for expiry, paidAt and createdAt (ms); notify signatures always use the real clock. */
  now?: () => number;
}

export class PspSandbox {
  readonly log: Logger;
  readonly now: () => number;
  readonly secret: string;
  readonly state = new PspState();
  readonly faults = new FaultBox();
  /** Faults of its statement download only (statement-api.ts). */
  statementFaults: StatementFaults = { ...NO_STATEMENT_FAULTS };
  /** Status queries received per trade, answered or not: the ledger shows them, so a test can see a poll step made twice. */
  readonly queries = new Map<string, number>();
  /** Where a shopper's browser reaches this sandbox: told, or the Host its API was first called on. */
  publicBase: string | undefined;
  private readonly refundDelayMs: number;
  private readonly sender: NotifySender;
  private readonly notifications: PaidNotifications;
  private readonly refundTimers = new Set<NodeJS.Timeout>();

  constructor(options: PspServerOptions) {
    this.log = options.log ?? createLogger('sandbox-psp', 'silent');
    this.now = options.now ?? Date.now;
    this.secret = options.secret;
    this.refundDelayMs = options.refundDelayMs ?? 200;
    this.publicBase = options.publicUrl;
    this.sender = new NotifySender({ secret: options.secret, log: this.log });
    this.notifications = new PaidNotifications(this.sender, this.faults, this.log);
  }

  /** Whether the trade is hidden from the API and notifications (`PUT /sandbox/hidden/:number`). */
  isHidden(trade: Trade): boolean {
    return this.faults.hidden.has(trade.channelOrderNo, trade.merchantOrderNo);
  }

  view(trade: Trade) {
    return tradeView(trade, this.now(), this.publicBase ?? '');
  }

  /** The shopper pays (on the page, or through the control API). */
  pay(channelOrderNo: string) {
    const result = this.state.payTrade(channelOrderNo, this.now());
    if (result.ok) this.notifications.paid(result.trade);
    return result;
  }

  settleRefundLater(refundNo: string): void {
    const outcome = draw(this.faults.current.refundFailRate) ? 'FAILED' : 'SUCCESS';
    const timer = setTimeout(() => {
      this.refundTimers.delete(timer);
      const refund = this.state.settleRefund(refundNo, outcome);
      if (refund)
        this.log.info({ refundNo, channelOrderNo: refund.channelOrderNo, outcome }, 'refund settled');
    }, this.refundDelayMs);
    this.refundTimers.add(timer);
  }

  /** Pending notifications and refund settlements are dropped (closing, or the state cleared). */
  cancelTimers(): void {
    this.sender.cancelAll();
    for (const timer of this.refundTimers) clearTimeout(timer);
    this.refundTimers.clear();
  }
}
