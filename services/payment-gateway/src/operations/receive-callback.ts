import { errorMessage } from '@payments/platform';
import {
  findRefund,
  finishRefund,
  requireManualRefund,
  NotifyRejectedError,
  settleAttempt,
  type NotificationAnswer,
  type NotificationRequest,
  type NotificationVerdict,
  type PaymentProvider,
  type ProviderNotification,
  type ProviderRefundStatus,
  type RefundRow,
} from '@payments/core';
import type { GatewayDeps } from '../deps';
import type { UnverifiedBudget } from '../domain/unverified-budget';
import { callbackInsert } from '../adapters/callback-log';
import { isDependencyDown } from '../http/errors';

/** The generic answer for a route no provider owns (no provider to speak for). */
const UNKNOWN_ROUTE = (route: string): NotificationAnswer => ({
  status: 404,
  contentType: 'application/json',
  body: JSON.stringify({ error: { code: 'UNKNOWN_CHANNEL', message: `no provider notifies on "${route}"` } }),
});

/** Over a source's budget of unverified notifications (see `UnverifiedBudget`): nothing was written. */
const RATE_LIMITED: NotificationAnswer = {
  status: 429,
  contentType: 'application/json',
  body: JSON.stringify({
    error: { code: 'RATE_LIMITED', message: 'too many notifications that failed verification' },
  }),
};

/** Who sent a notification, and what unverified ones may still cost (per gateway). */
export interface NotificationSource {
  /** The remote address. */
  address: string;
  budget: UnverifiedBudget;
}

/**
 * A provider notification is a hint (DESIGN rule 3): the provider verifies it on the raw bytes,
 * we check it against the attempt and record it raw, then settle through the same function the
 * poller uses. The provider's success answer goes out only after the settlement committed;
 * repeats are no-ops answered with success. A wrong amount never settles (`decideSettlement`).
 */
export async function receiveNotification(
  deps: GatewayDeps,
  route: string,
  request: NotificationRequest,
  source: NotificationSource,
): Promise<NotificationAnswer> {
  const provider = deps.notifyRoutes.get(route);
  const rawBody = request.rawBody.toString('utf8');
  const unverified = provider?.describeUnverified(request) ?? { claimedReference: null, signature: null };
  const record = async (outcome: string, channelOrderNo: string | null, detail?: string) => {
    deps.metrics.callbacks.inc({ channel: route, result: outcome });
    await deps.repository.recordCallback({
      channel: route,
      channelOrderNo,
      signature: unverified.signature,
      rawBody,
      verified: true,
      outcome,
      detail,
    });
  };
  /**
   * One that failed verification is anybody's: counted, kept only as a bounded sample under no
   * order (the order number it claims is named in `detail`, never linked), refused with 429 and
   * not written at all once its source is over its budget.
   */
  const refuseUnverified = async (outcome: string, detail: string, answer: NotificationAnswer) => {
    const channel = provider ? route : 'unknown';
    const admission = source.budget.admit(source.address);
    if (admission === 'refused') {
      deps.metrics.callbacks.inc({ channel, result: 'RATE_LIMITED' });
      return RATE_LIMITED;
    }
    deps.metrics.callbacks.inc({ channel, result: outcome });
    if (admission === 'sampled') {
      const claimed = unverified.claimedReference;
      await deps.repository.recordCallback({
        channel: route,
        channelOrderNo: null,
        signature: unverified.signature,
        rawBody,
        verified: false,
        outcome,
        detail: `from ${source.address}${claimed ? `, claims ${claimed}` : ''}: ${detail}`,
      });
    }
    return answer;
  };
  if (!provider) return refuseUnverified('UNKNOWN_CHANNEL', `unknown route "${route}"`, UNKNOWN_ROUTE(route));
  try {
    let notification: ProviderNotification;
    try {
      notification = await provider.verifyNotification(request);
    } catch (error) {
      if (!(error instanceof NotifyRejectedError)) throw error;
      const code = error.status === 401 ? 'BAD_SIGNATURE' : 'VALIDATION_FAILED';
      return await refuseUnverified(
        code,
        error.message,
        provider.acknowledge({ accepted: false, status: error.status, code, message: error.message }),
      );
    }
    return provider.acknowledge(
      await settleNotification(deps, notification, { route, rawBody, unverified, record }),
    );
  } catch (error) {
    // Not recorded durably (a database or provider lookup failed): the provider will retry.
    deps.log.warn({ route, err: errorMessage(error) }, 'notification not settled; the provider will retry');
    return provider.acknowledge({
      accepted: false,
      status: isDependencyDown(error) ? 503 : 500,
      code: 'NOT_SETTLED',
      message: 'not recorded; send it again',
    });
  }
}

/** What the route worked out once per notification, for the steps that verify and settle it. */
interface Received {
  route: string;
  rawBody: string;
  unverified: ReturnType<PaymentProvider['describeUnverified']>;
  /** Records a verified notification (unverified ones never reach the steps below). */
  record: (outcome: string, channelOrderNo: string | null, detail?: string) => Promise<void>;
}

/**
 * A refund's outcome from its provider: a final one settles the refund (the same compare-and-set
 * as the refunder's polling, so whichever comes second changes nothing); a refund never touches
 * the pay order or its attempts.
 */
async function settleRefundNotification(
  deps: GatewayDeps,
  route: string,
  notification: Extract<ProviderNotification, { kind: 'refund' }>,
  record: Received['record'],
): Promise<NotificationVerdict> {
  for (const { refundNo, status } of notification.refunds) {
    const refund = await findRefund(deps.dataSource, refundNo);
    if (!refund || deps.servedChannels.get(refund.channel)?.notifyRoute !== route) {
      // A refund made outside us (the provider's merchant portal): kept as evidence and taken, since
      // no retry of it could ever settle anything here.
      const message = refund ? `refund ${refundNo} belongs to ${refund.channel}` : `no refund ${refundNo}`;
      deps.log.warn({ route, refundNo }, `refund notification for a refund we did not make: ${message}`);
      await record('UNKNOWN_REFUND', null, message);
      continue;
    }
    const settled = await settleRefund(deps, refund, status);
    if (settled) {
      deps.relay.kick();
      deps.metrics.refunds.inc({ reason: refund.reason, status });
      if (status === 'FAILED')
        deps.log.error({ refundNo, route }, 'the provider failed the refund: a person must decide');
      if (status === 'MANUAL_REQUIRED')
        deps.log.error(
          { refundNo, route },
          'the provider holds the refund for a person: payctl refund list --manual',
        );
    }
    await record(
      `REFUND_${status}`,
      refund.channel_order_no,
      `refund ${refundNo}${settled ? ' settled' : ''}`,
    );
  }
  if (notification.refunds.length === 0) await record('IGNORED', null, 'names none of our refunds');
  return { accepted: true };
}

/** Settles a refund by its provider's word; PROCESSING changes nothing. */
async function settleRefund(
  deps: GatewayDeps,
  refund: RefundRow,
  status: ProviderRefundStatus,
): Promise<boolean> {
  switch (status) {
    case 'PROCESSING':
      return false;
    case 'MANUAL_REQUIRED':
      return requireManualRefund(
        deps.dataSource,
        refund,
        deps.servedChannels.get(refund.channel)?.manualRefundAdvice ??
          'the provider holds the refund for a person',
      );
    case 'FAILED':
      return finishRefund(deps.dataSource, refund, 'FAILED', 'the provider failed the refund');
    case 'SUCCESS':
      return finishRefund(deps.dataSource, refund, 'SUCCESS');
  }
}

/** A verified notification: recorded and settled. */
async function settleNotification(
  deps: GatewayDeps,
  notification: ProviderNotification,
  { route, rawBody, unverified, record }: Received,
): Promise<NotificationVerdict> {
  switch (notification.kind) {
    case 'ignored':
      await record('IGNORED', unverified.claimedReference, notification.reason);
      return { accepted: true };
    case 'refund':
      return settleRefundNotification(deps, route, notification, record);
    case 'payment':
      break;
    default: {
      const unknown: never = notification;
      throw new Error(`unknown notification ${JSON.stringify(unknown)}`);
    }
  }
  const { channelOrderNo, outcome } = notification;
  const refuse = async (status: 400 | 404, code: string, message: string): Promise<NotificationVerdict> => {
    await record(code, channelOrderNo, message);
    return { accepted: false, status, code, message };
  };
  const attempt = await deps.repository.findAttempt(channelOrderNo);
  if (!attempt) return refuse(404, 'UNKNOWN_ATTEMPT', `no attempt ${channelOrderNo}`);
  if (deps.servedChannels.get(attempt.channel)?.notifyRoute !== route)
    return refuse(400, 'CHANNEL_MISMATCH', `attempt ${channelOrderNo} belongs to ${attempt.channel}`);
  if (
    outcome.providerTradeNo &&
    attempt.provider_trade_no &&
    outcome.providerTradeNo !== attempt.provider_trade_no
  ) {
    // Signed by the provider, under our number, about another of its trades (a session another
    // integration on the same account made with our reference): not this attempt's. Taken, so the
    // provider stops sending it, and settled nothing; an anomaly for a person to look at.
    const message = `notification names provider trade ${outcome.providerTradeNo}, attempt ${channelOrderNo} is ${attempt.provider_trade_no}`;
    deps.metrics.callbacks.inc({ channel: route, result: 'TRADE_MISMATCH' });
    deps.log.error({ channelOrderNo, route }, `notification for another trade: ${message}`);
    await record('TRADE_MISMATCH', channelOrderNo, message);
    return { accepted: true };
  }
  // The raw notification is recorded in the settlement's own transaction: one commit for both.
  const result = await settleAttempt(deps.dataSource, channelOrderNo, outcome, {
    alsoWrite: (settlement) => [
      callbackInsert({
        channel: route,
        channelOrderNo,
        signature: unverified.signature,
        rawBody,
        verified: true,
        outcome: settlement.kind,
      }),
    ],
    publishAfterCommit: true,
  });
  deps.metrics.observeSettlement(result);
  deps.relay.publishCommitted(result?.events ?? []);
  if (!result) return refuse(404, 'UNKNOWN_ATTEMPT', `no attempt ${channelOrderNo}`);
  deps.metrics.callbacks.inc({ channel: route, result: result.settlement.kind });
  if (result.settlement.kind === 'AMOUNT_MISMATCH' && outcome.status === 'SUCCESS') {
    const message = `notification says ${outcome.amount} ${outcome.currency}, attempt is ${attempt.amount} ${attempt.currency}`;
    deps.log.error({ channelOrderNo, route }, `notification amount anomaly: ${message}`);
    return { accepted: false, status: 400, code: 'AMOUNT_MISMATCH', message };
  }
  return { accepted: true };
}
