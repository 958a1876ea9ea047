import { errorMessage, type LockGuard } from '@payments/platform';
import {
  ApiError,
  ChannelRejectedError,
  ChannelUnavailableError,
  closeAndSettle,
  notifyUrlOf,
  payActionTarget,
  settleAttempt,
  createRequestOf,
  type ApplyRequest,
  type AttemptRow,
  type PayOrderRow,
} from '@payments/core';
import { decideApply, refuseIfFinal } from '../domain/apply-decision';
import { orderLock, orderLockName, type GatewayDeps } from '../deps';
import type { NewAttempt } from '../adapters/attempt-insert';
import { applyBody } from './payment-view';

const DEFAULT_VALIDITY_MS = 15 * 60_000;

export interface ApplyAnswer {
  status: 200 | 201;
  body: ReturnType<typeof applyBody>;
}

/** An order's expiry as asked (or 15 minutes from now), refused in the past or beyond MAX_ORDER_VALIDITY. */
export function orderExpiry(deps: Pick<GatewayDeps, 'config'>, asked: string | undefined): Date {
  const expireAt = asked ? new Date(asked) : new Date(Date.now() + DEFAULT_VALIDITY_MS);
  if (expireAt.getTime() <= Date.now())
    throw new ApiError('VALIDATION_FAILED', 'expireAt: must be in the future');
  if (expireAt.getTime() > Date.now() + deps.config.MAX_ORDER_VALIDITY)
    throw new ApiError(
      'VALIDATION_FAILED',
      `expireAt: must be at most ${deps.config.MAX_ORDER_VALIDITY / 60_000} minutes ahead (MAX_ORDER_VALIDITY)`,
    );
  return expireAt;
}

/**
 * Apply for payment (HTTP and queue alike): under the order's Redis lock, refuse, reuse the
 * same channel's attempt, or close the other channels' attempts and create a new one.
 */
export async function applyPayment(deps: GatewayDeps, request: ApplyRequest): Promise<ApplyAnswer> {
  const channel = deps.channels.get(request.channel);
  if (!channel)
    throw new ApiError(
      'UNKNOWN_CHANNEL',
      `unknown channel "${request.channel}"; use one of ${[...deps.channels.keys()].join(', ')}`,
    );
  if (!channel.supportsCurrency(request.currency))
    throw new ApiError('UNSUPPORTED_CURRENCY', `channel ${channel.name} does not take ${request.currency}`);
  if (channel.needsReturnUrl && !request.returnUrl)
    throw new ApiError(
      'VALIDATION_FAILED',
      `returnUrl: required for ${channel.name} (its provider sends the shopper back there)`,
    );
  const expireAt = orderExpiry(deps, request.expireAt);

  const known = await refuseFinalFromCache(deps, request.merchantOrderNo);
  const outcome = await deps.lock.withLock(
    orderLockName(request.merchantOrderNo),
    orderLock(deps.config),
    (guard) =>
      // Never seen, and nobody was applying for it just before us: most likely a new order.
      known === undefined && !guard.waited
        ? applyNewLocked(deps, request, expireAt, guard)
        : applyLocked(deps, request, expireAt, guard),
  );
  if (!outcome.acquired)
    throw new ApiError('PAYMENT_IN_PROGRESS', 'another request for this order is in progress; try again');
  return outcome.result;
}

/**
 * A paid or closed order is refused without its lock when the cache knows it, and the database
 * agrees: the cache alone never refuses anyone. Returns what the cache knew (undefined: an order
 * it never saw).
 */
async function refuseFinalFromCache(
  deps: GatewayDeps,
  merchantOrderNo: string,
): Promise<'PAID' | 'CLOSED' | 'EXISTS' | undefined> {
  const known = await deps.finalStatus.lookup(merchantOrderNo);
  if (known === 'PAID' || known === 'CLOSED') {
    const payOrder = await deps.repository.findPayOrder(merchantOrderNo);
    if (payOrder) refuseIfFinal(payOrder.status);
  }
  return known;
}

/**
 * An order the cache never saw, most likely a new one: created with its attempt without being
 * read first (one round trip to the database less on every first apply). If it exists after all
 * (the cache forgot it, or another instance made it first), its unique key refuses the insert and
 * the order is decided on what is there, as any other.
 */
async function applyNewLocked(
  deps: GatewayDeps,
  request: ApplyRequest,
  expireAt: Date,
  guard: LockGuard,
): Promise<ApplyAnswer> {
  assertStillLocked(guard);
  const firstPollAt = new Date(Date.now() + deps.config.POLL_SCHEDULE[0]!);
  const created = await deps.repository.createPayOrderWithAttempt(
    request,
    newAttemptOf(deps, request),
    expireAt,
    firstPollAt,
  );
  if (!created) return applyLocked(deps, request, expireAt, guard);
  deps.finalStatus.rememberExists(request.merchantOrderNo);
  return createAtProvider(deps, created.payOrder, created.attempt, request, true);
}

/** What a new attempt of `request` is recorded with (its create's parameters, fixed from now on). */
function newAttemptOf(deps: GatewayDeps, request: ApplyRequest): NewAttempt {
  return {
    channel: request.channel,
    subject: request.subject,
    returnUrl: request.returnUrl ?? null,
    refundable: deps.channels.get(request.channel)!.refundable,
  };
}

/** The lock was lost (its renewal failed): stop before anything that needs it. */
function assertStillLocked(guard: LockGuard): void {
  if (!guard.held())
    throw new ApiError('PAYMENT_IN_PROGRESS', 'lost the order lock while applying; try again');
}

async function applyLocked(
  deps: GatewayDeps,
  request: ApplyRequest,
  expireAt: Date,
  guard: LockGuard,
): Promise<ApplyAnswer> {
  const { repository } = deps;
  const payOrder = await repository.findPayOrder(request.merchantOrderNo);
  if (payOrder) await deps.finalStatus.remember(payOrder.merchant_order_no, payOrder.status);
  const attempts = payOrder ? await repository.attemptsOf(payOrder.id) : [];
  const decision = decideApply(
    payOrder && {
      status: payOrder.status,
      amount: Number(payOrder.amount),
      currency: payOrder.currency,
      expireAt: new Date(payOrder.expire_at),
    },
    request,
    attempts.map((attempt) => ({
      ...attempt,
      channelOrderNo: attempt.channel_order_no,
      expireAt: new Date(attempt.expire_at),
    })),
    new Date(),
  );
  if (decision.action === 'REUSE') {
    const attempt = attempts.find(
      (candidate) => candidate.channel_order_no === decision.attempt.channelOrderNo,
    )!;
    // Recorded but never created at the provider (a gateway stopped in between): finish the
    // create now. The provider's create is idempotent by channelOrderNo, so a trade it did make
    // is answered again, not made twice.
    if (attempt.pay_url === null) {
      assertStillLocked(guard);
      return createAtProvider(deps, payOrder!, attempt, request);
    }
    return { status: 200, body: applyBody(payOrder!, attempt, true) };
  }
  const firstPollAt = new Date(Date.now() + deps.config.POLL_SCHEDULE[0]!);
  if (!payOrder) {
    assertStillLocked(guard);
    const created = await repository.createPayOrderWithAttempt(
      request,
      newAttemptOf(deps, request),
      expireAt,
      firstPollAt,
    );
    // Another instance created the order first (lock lost): decide again on what is there.
    if (!created) return applyLocked(deps, request, expireAt, guard);
    deps.finalStatus.rememberExists(request.merchantOrderNo);
    return createAtProvider(deps, created.payOrder, created.attempt, request, true);
  }

  for (const other of decision.closeFirst) {
    await closeOtherChannel(
      deps,
      attempts.find((row) => row.channel_order_no === other.channelOrderNo)!,
    );
  }

  // The closes above can be slow: the new attempt is made only while the lock is still ours, so
  // two channels' attempts are never made live at once by two holders.
  assertStillLocked(guard);
  const recorded = await repository.recordAttempt(payOrder, newAttemptOf(deps, request), firstPollAt);
  if (!recorded) {
    // The in-flight key was taken by a concurrent request: answer with that attempt.
    return applyLocked(deps, request, expireAt, guard);
  }
  if ('refused' in recorded) {
    deps.relay.kick();
    throw recorded.refused === 'PAID'
      ? new ApiError('ORDER_ALREADY_PAID', 'this order is already paid')
      : new ApiError('ORDER_CLOSED', 'this order is closed or expired');
  }
  return createAtProvider(deps, payOrder, recorded.attempt, request);
}

/** DESIGN rule 2: close the other channel's attempt first; a voucher or a failing close lets us go on. */
async function closeOtherChannel(deps: GatewayDeps, other: AttemptRow): Promise<void> {
  const channel = deps.servedChannels.get(other.channel);
  if (!channel) return;
  const channelOrderNo = other.channel_order_no;
  try {
    const closed = await closeAndSettle(deps.dataSource, channel, other);
    deps.metrics.observeSettlement(closed.result);
    deps.relay.kick();
    if (!closed.closed && closed.paid && closed.result?.settlement.kind === 'PAID') {
      throw new ApiError('ORDER_ALREADY_PAID', 'this order was just paid through another channel');
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    deps.log.warn(
      { channelOrderNo, err: errorMessage(error) },
      'could not close the other attempt; going on',
    );
  }
}

async function createAtProvider(
  deps: GatewayDeps,
  payOrder: PayOrderRow,
  attempt: AttemptRow,
  request: ApplyRequest,
  newOrder = false,
): Promise<ApplyAnswer> {
  const channel = deps.channels.get(request.channel)!;
  let created;
  try {
    // As recorded with the attempt, not as this request says: a retry of the create (this apply
    // after one whose answer was lost) must send exactly the same, or the provider refuses its key.
    created = await channel.createTrade(
      createRequestOf(attempt, notifyUrlOf(channel, deps.config.GATEWAY_PUBLIC_URL), request)!,
    );
  } catch (error) {
    if (createCertainlyFailed(error)) {
      await settleAttempt(deps.dataSource, attempt.channel_order_no, {
        status: 'FAILED',
        reason: errorMessage(error),
      });
      throw new ApiError(
        'CHANNEL_ERROR',
        `the provider could not create the payment: ${errorMessage(error)}`,
      );
    }
    // Timed out, cut off, or an answer we could not read: the provider may have made the trade,
    // now or a moment from now, so this is no failure. The attempt stays in flight with no pay URL
    // and the poller takes it: queried, closed when found, settled if paid, refunded if extra.
    // Applying again for the same channel finishes the create (idempotent by channelOrderNo).
    await deps.repository.announceAttempt(attempt, payOrder);
    deps.relay.kick();
    deps.log.warn(
      { channelOrderNo: attempt.channel_order_no, err: errorMessage(error) },
      'create outcome unknown; the poller will find out',
    );
    throw new ApiError(
      'CHANNEL_ERROR',
      `the provider did not confirm the payment (${errorMessage(error)}); apply again to retry`,
    );
  }
  const announced = await deps.repository.markCreated(attempt, payOrder, created);
  if (!announced) {
    // Settled while we waited on the provider (the poller found no trade): do not hand out a pay URL.
    await channel
      .closeTrade({ channelOrderNo: attempt.channel_order_no, providerTradeNo: created.providerTradeNo })
      .catch(() => undefined);
    throw new ApiError('CHANNEL_ERROR', 'the payment attempt ended while it was being created; apply again');
  }
  deps.relay.publishCommitted([announced]);
  // The attempt is as stored just now: still PAYING, with its pay URL. A pay order this request
  // created is PAYING too (nothing else could reach it yet); an older one may have been settled
  // through another channel meanwhile, so its status is read again.
  const storedAttempt = {
    ...attempt,
    pay_url: payActionTarget(created.payAction),
    pay_action_type: created.payAction.type,
    provider_trade_no: created.providerTradeNo,
  };
  const currentOrder = newOrder
    ? payOrder
    : (await deps.repository.findPayOrder(payOrder.merchant_order_no))!;
  return { status: 201, body: applyBody(currentOrder, storedAttempt, false) };
}

/** Only a refusal, or a call that never left us, proves the provider made no trade. */
function createCertainlyFailed(error: unknown): boolean {
  if (error instanceof ChannelRejectedError) return true;
  return error instanceof ChannelUnavailableError && !error.mayHaveReachedProvider;
}
