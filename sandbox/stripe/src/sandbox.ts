/**
 * The running Stripe sandbox: its sessions, intents and refunds, its clock, its faults (the kit's
 * and its own), the answers kept under Idempotency-Keys, and what Stripe's own clock and a payment
 * do (sessions and vouchers expiring lazily, card and voucher payments, refunds settling), each
 * with its event. The API, the shopper's pages and the control API act through it.
 */
import type { Socket } from 'node:net';
import { createLogger, type Logger } from '@payments/platform';
import { draw, FaultBox } from '@payments/sandbox-kit';
import type { SavedAnswer } from './api-params';
import { StripeState, type Intent, type Refund, type Session } from './state';
import { intentView, refundView, sessionView } from './views';
import { StripeWebhooks } from './webhooks';

export interface StripeSandboxOptions {
  /** The account's secret key: every API request must carry it. */
  secretKey: string;
  /** The webhook endpoint's signing secret. */
  webhookSecret: string;
  /** Where webhooks go (the endpoint configured for the account), asked at each event. */
  webhookUrl: () => string | undefined;
  log?: Logger;
  /** Compresses the webhook retry schedule and refund settling for tests: 0.001 → 60 ms, … */
  notifyTimeScale?: number;
  /** Where a shopper's browser reaches this sandbox (session URLs point there); default: the Host the API was called on. */
  publicUrl?: string;
  /** The real clock (ms); the sandbox's own clock is this plus what `POST /sandbox/clock` advanced it by. */
  now?: () => number;
}

/** How long a card refund stays `pending` before it succeeds. */
const REFUND_SETTLE_MS = 2000;

/** Stripe's own faults, beside the kit's (`PUT /sandbox/stripe-faults`; `DELETE /sandbox/faults` resets them too). */
export interface StripeFaults {
  /**
   * Chance that a session create that runs (a new session, kept under its Idempotency-Key) never
   * answers: the connection stays silent until the caller gives up (or 60 s, then it is cut). The
   * same create again is replayed with the session, as Stripe replays it.
   */
  createAnswerLostRate: number;
  /**
   * A listing of balance transactions is cut after its first page: the next page answers 500
   * (Stripe's answers carry no hash; a listing that breaks off is how its statement is cut short).
   */
  statementTruncated: boolean;
}
export const NO_STRIPE_FAULTS: Readonly<StripeFaults> = {
  createAnswerLostRate: 0,
  statementTruncated: false,
};

export type StripeSandbox = ReturnType<typeof createStripeSandbox>;

export function createStripeSandbox(options: StripeSandboxOptions) {
  const log = options.log ?? createLogger('sandbox-stripe', 'silent');
  const now = options.now ?? Date.now;
  /** The sandbox's (Stripe's) clock, in seconds: what expiries and records go by. */
  const nowS = () => Math.floor((now() + sandbox.clockOffsetMs) / 1000);
  const scale = options.notifyTimeScale ?? 1;
  const state = new StripeState();
  const faults = new FaultBox();
  const timers = new Set<NodeJS.Timeout>();
  /** Answers kept under their Idempotency-Key, oldest first. */
  const idempotency = new Map<string, SavedAnswer>();
  /** Keys whose first request is running now. */
  const running = new Set<string>();
  /** Connections whose answer was lost (the fault): held silent, cut at close. */
  const held = new Set<Socket>();
  const webhooks = new StripeWebhooks({
    webhookSecret: options.webhookSecret,
    webhookUrl: options.webhookUrl,
    notifyTimeScale: scale,
    faults,
    log,
    now,
    nowS,
  });

  const intentOf = (session: Session) => (session.intentId ? state.intents.get(session.intentId) : undefined);
  // Views, as the API answers them.
  const viewIntent = (intent: Intent) => intentView(intent, sandbox.publicBase);
  const viewSession = (session: Session, expand: boolean) =>
    sessionView(session, intentOf(session), expand, sandbox.publicBase);
  /** Hidden from the API and webhooks (`PUT /sandbox/hidden/:number`: its client reference or merchant order). */
  const isHidden = (session: Session) =>
    faults.hidden.has(session.clientReferenceId, session.metadata.merchantOrderNo);
  const emitSession = (type: string, session: Session) => {
    if (isHidden(session)) {
      log.info({ session: session.id, type, outcome: 'hidden' }, 'webhook of a hidden session never sent');
      return;
    }
    webhooks.emit(type, viewSession(session, false));
  };

  /**
   * Lazily, as Stripe's own clock would: an open session past its expiry is expired, and an issued
   * voucher past its own expiry fails unpaid (each says so by its event).
   */
  function refresh(session: Session): Session {
    if (state.expireIfDue(session, nowS())) emitSession('checkout.session.expired', session);
    const intent = intentOf(session);
    if (intent && state.voucherDue(intent, nowS()) && state.expireVoucher(intent)) {
      log.info({ session: session.id, intent: intent.id }, 'boleto voucher expired unpaid');
      emitSession('checkout.session.async_payment_failed', session);
    }
    return session;
  }
  const refreshIntent = (intent: Intent) => refresh(state.sessions.get(intent.sessionId)!);

  function payCard(session: Session) {
    state.payByCard(session, nowS());
    log.info({ session: session.id, amount: session.amount }, 'paid by card');
    emitSession('checkout.session.completed', session);
  }
  function issueVoucher(session: Session): Intent {
    const intent = state.issueVoucher(session, nowS());
    log.info({ session: session.id }, 'boleto voucher issued');
    emitSession('checkout.session.completed', session);
    return intent;
  }
  function payVoucher(intent: Intent): boolean {
    if (!state.payVoucher(intent, nowS())) return false;
    log.info({ intent: intent.id }, 'boleto voucher paid');
    emitSession('checkout.session.async_payment_succeeded', state.sessions.get(intent.sessionId)!);
    return true;
  }

  function settleRefundLater(refund: Refund) {
    const fail = draw(faults.current.refundFailRate);
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (refund.status !== 'pending' || !state.refunds.has(refund.id)) return;
        refund.status = fail ? 'failed' : 'succeeded';
        log.info({ refund: refund.id, status: refund.status }, 'refund settled');
        webhooks.emit('refund.updated', refundView(refund));
        if (!fail) {
          const intent = state.intents.get(refund.intentId)!;
          const refunded = state.refundedTotal(intent.id);
          webhooks.emit('charge.refunded', {
            id: refund.chargeId,
            object: 'charge',
            amount: intent.amount,
            amount_refunded: refunded,
            currency: intent.currency,
            payment_intent: intent.id,
            refunded: refunded >= intent.amount,
          });
        }
      },
      Math.max(1, Math.round(REFUND_SETTLE_MS * scale)),
    );
    timers.add(timer);
  }

  /** Pending events, refund settlements and held connections are dropped (closing, or the state cleared). */
  function cancelAll() {
    webhooks.cancelAll();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const socket of held) socket.destroy();
    held.clear();
  }

  const sandbox = {
    options,
    log,
    now,
    nowS,
    state,
    faults,
    idempotency,
    running,
    held,
    /** How far the sandbox's clock runs ahead of the real one (`POST /sandbox/clock`). */
    clockOffsetMs: 0,
    stripeFaults: { ...NO_STRIPE_FAULTS } as StripeFaults,
    /** Where a shopper's browser reaches this sandbox: told, or the Host the API was first called on. */
    publicBase: options.publicUrl,
    intentOf,
    isHidden,
    intentView: viewIntent,
    sessionView: viewSession,
    emit: (type: string, object: unknown) => webhooks.emit(type, object),
    emitSession,
    refresh,
    refreshIntent,
    payCard,
    issueVoucher,
    payVoucher,
    settleRefundLater,
    cancelAll,
  };
  return sandbox;
}
