import { errorMessage, PermanentError, Schedule, type HandlerResult, type Logger } from '@payments/platform';
import {
  attemptFacts,
  attemptRef,
  ChannelRejectedError,
  ChannelUnavailableError,
  closeAndSettle,
  createRequestOf,
  meaningOfNotFound,
  meaningOfQuery,
  notifyUrlOf,
  settleAttempt,
  waitForUnservedChannel,
  type AttemptRow,
  type PaymentChannel,
  type ProviderOutcome,
} from '@payments/core';
import type { PollerDeps } from '../deps';
import { positionHeaders } from '../domain/poll-headers';
import { decideAfterClose, decidePoll, type PollDecision, type PollPosition } from '../domain/poll-plan';

export interface PollRequest {
  channelOrderNo: string;
  /** Where this message's chain stands; undefined for the `channel_order.created` event itself. */
  position: PollPosition | undefined;
  /** Whether a person replayed this message from its dead letter. */
  replayed: boolean;
}

/**
 * One poll of one attempt (DESIGN rule 4). The `channel_order.created` event starts the chain;
 * each later message carries its position and comes back through a delay tier. Only the message
 * owning the attempt's current poll_count polls, so duplicates and sweeps never double the chain.
 * What the poll does is decided by `decidePoll` alone: settle, close (a trade nobody was given, or
 * one past its expiry), ask again, or give up for a person.
 */
export async function pollAttempt(
  deps: PollerDeps,
  log: Logger,
  request: PollRequest,
): Promise<HandlerResult> {
  const { channelOrderNo, position } = request;
  const schedule = Schedule.of(deps.config.POLL_SCHEDULE);
  if (!position) return startPolling(deps, log, request, schedule);

  const attempt = await deps.attempts.find(channelOrderNo);
  if (!attempt) throw new PermanentError(`no attempt ${channelOrderNo} in this database`);
  if (attempt.status !== 'PAYING') return; // final: the chain ends
  if (attempt.poll_count !== position.seq) {
    log.debug({ channelOrderNo, seq: position.seq, owner: attempt.poll_count }, 'stale poll message dropped');
    return;
  }
  const channel = deps.channels.get(attempt.channel);
  if (!channel)
    return waitForUnservedChannel(log, attempt.channel, { channelOrderNo }, deps.config.RETRY_SCHEDULE);

  const now = new Date();
  const expired = now.getTime() >= new Date(attempt.expire_at).getTime();
  const queried = await queryAttempt(deps, log, channel, attempt, now);
  if (queried === 'REJECTED')
    // The provider refused the create itself (the same request, replayed): there is no trade.
    return settleByPoll(deps, log, attempt, {
      status: 'FAILED',
      reason: 'the provider refused the create when it was sent again',
    });
  const { answer } = queried;
  const trade = {
    // Recorded, but the provider never confirmed the create (it timed out, or a gateway stopped in
    // between): nobody holds a pay URL for it, and the trade may appear at the provider later.
    closableUnconfirmed: queried.found && attempt.pay_url === null && channel.closable,
    // Not found (or the provider failed to answer) while "not found" is not final yet: within the
    // clock skew of its expiry. A query past that settles it, so the chain still ends.
    notFoundYet: !queried.found && meaningOfNotFound(attemptFacts(attempt), now) === 'NOT_YET',
  };
  let decision: PollDecision = decidePoll(answer, position, schedule, expired, now.getTime(), trade);
  if (decision.action === 'CLOSE_UNCONFIRMED' || decision.action === 'CLOSE_EXPIRED') {
    const left = await closeAttempt(deps, log, channel, attempt, decision.action);
    if (left === 'ENDED') return;
    decision = decideAfterClose(
      decision.action,
      left,
      answer,
      position,
      schedule,
      expired,
      now.getTime(),
      trade.notFoundYet,
    );
  }

  switch (decision.action) {
    case 'SETTLE':
      return settleByPoll(deps, log, attempt, decision.outcome);
    case 'NEXT': {
      if (!(await deps.attempts.claimNextPoll(attempt.id, position.seq, decision.delayMs))) return;
      return { reschedule: { delayMs: decision.delayMs, headers: positionHeaders(decision.position) } };
    }
    case 'GIVE_UP': {
      await deps.attempts.markForReview(attempt.id, decision.reason);
      throw new PermanentError(decision.reason);
    }
    case 'CLOSE_UNCONFIRMED':
    case 'CLOSE_EXPIRED':
      throw new Error('a close decided twice');
    default: {
      const unknown: never = decision;
      throw new Error(`unknown poll decision ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * The chain's first message. An attempt parked for review comes back here when a person replays
 * its dead letter: it gets a fresh schedule (and a fresh close at expiry) from its current
 * poll_count. Only a replayed message can be one; a new attempt's event needs no read.
 */
async function startPolling(
  deps: PollerDeps,
  log: Logger,
  request: PollRequest,
  schedule: Schedule,
): Promise<HandlerResult> {
  const { channelOrderNo } = request;
  const parked = request.replayed ? await deps.attempts.find(channelOrderNo) : undefined;
  if (parked?.status === 'PAYING' && parked.needs_review) {
    if (!(await deps.attempts.resumeAfterReview(parked.id, parked.poll_count, schedule.delayAt(0)))) return;
    log.info({ channelOrderNo }, 'attempt taken back from review; polling again');
    const resumed: PollPosition = { seq: parked.poll_count + 1, step: 0, closeTried: false, afterExpiry: 0 };
    return { reschedule: { delayMs: schedule.delayAt(0), headers: positionHeaders(resumed) } };
  }
  // The event itself: the first query waits for the schedule's first step.
  const start: PollPosition = { seq: 0, step: 0, closeTried: false, afterExpiry: 0 };
  return { reschedule: { delayMs: schedule.delayAt(0), headers: positionHeaders(start) } };
}

/**
 * Asks the provider (after replaying a lost create where the provider needs it) and reads the
 * answer through `meaningOfQuery`. A provider failure is 'ERROR': the same step comes again.
 */
async function queryAttempt(
  deps: PollerDeps,
  log: Logger,
  channel: PaymentChannel,
  attempt: AttemptRow,
  now: Date,
): Promise<'REJECTED' | { answer: ProviderOutcome | 'ERROR'; found: boolean }> {
  try {
    if ((await learnTradeByReplay(deps, channel, attempt)) === 'REJECTED') return 'REJECTED';
    const queried = await channel.queryTrade(attemptRef(attempt));
    deps.metrics.queries.inc({
      result: queried === 'NOT_FOUND' ? 'not_found' : queried.status.toLowerCase(),
    });
    return { answer: meaningOfQuery(queried, attemptFacts(attempt), now), found: queried !== 'NOT_FOUND' };
  } catch (error) {
    if (!(error instanceof ChannelUnavailableError)) throw error;
    deps.metrics.queries.inc({ result: 'error' });
    log.warn(
      { channelOrderNo: attempt.channel_order_no, err: errorMessage(error) },
      'provider query failed; same step again',
    );
    return { answer: 'ERROR', found: false };
  }
}

/**
 * The one close of the poller. An unconfirmed trade's close is claimed first: a retried apply may
 * be confirming the same attempt right now, and whichever of the two marks the row first wins (the
 * claim needs no pay URL; the confirmation needs no claim); the claim is given back when the close
 * did not end the attempt. 'ENDED': closed or paid; 'OPEN': the provider left it open (a voucher,
 * not found yet, the shopper paying), or the confirmation won; 'FAILED': the close failed.
 */
async function closeAttempt(
  deps: PollerDeps,
  log: Logger,
  channel: PaymentChannel,
  attempt: AttemptRow,
  why: 'CLOSE_UNCONFIRMED' | 'CLOSE_EXPIRED',
): Promise<'ENDED' | 'OPEN' | 'FAILED'> {
  const channelOrderNo = attempt.channel_order_no;
  const claimed = why === 'CLOSE_UNCONFIRMED';
  if (claimed && !(await deps.attempts.claimClose(attempt.id))) {
    log.info({ channelOrderNo }, 'confirmed by a retried apply meanwhile: left open for the shopper');
    return 'OPEN';
  }
  let left: 'OPEN' | 'FAILED';
  try {
    const closed = await closeAndSettle(deps.dataSource, channel, attempt);
    deps.metrics.observeSettlement(closed.result);
    deps.relay.kick();
    if (closed.closed || closed.paid) return 'ENDED';
    left = 'OPEN';
  } catch (error) {
    log.warn(
      { channelOrderNo, err: errorMessage(error) },
      claimed ? 'close of an unconfirmed trade failed' : 'close at expiry failed; will try again',
    );
    left = 'FAILED';
  }
  if (claimed) await deps.attempts.releaseClose(attempt.id);
  return left;
}

/** Settles what a poll found; money taken but not the amount asked for is parked for a person. */
async function settleByPoll(
  deps: PollerDeps,
  log: Logger,
  attempt: AttemptRow,
  outcome: ProviderOutcome,
): Promise<HandlerResult> {
  const channelOrderNo = attempt.channel_order_no;
  const result = await settleAttempt(deps.dataSource, channelOrderNo, outcome, { publishAfterCommit: true });
  deps.metrics.observeSettlement(result);
  deps.relay.publishCommitted(result?.events ?? []);
  if (result?.settlement.kind === 'AMOUNT_MISMATCH' && outcome.status === 'SUCCESS') {
    // Money was taken, but not the amount we asked for: no rule settles that; a person must.
    const reason = `provider reports ${outcome.amount} ${outcome.currency} paid, attempt is ${attempt.amount} ${attempt.currency}`;
    await deps.attempts.markForReview(attempt.id, reason);
    throw new PermanentError(reason);
  }
  log.info({ channelOrderNo, settled: result?.settlement.kind }, 'settled by polling');
}

/**
 * A provider that finds a trade only by the create's answer (Stripe: the session id), for an
 * attempt whose create answer was lost: the same create is sent again, as first asked (Stripe
 * replays a keyed request for 24 h), and the trade's id it names is stored, so the query can ask
 * for it. No pay URL is stored: no shopper was given one. Changes `attempt` in place.
 * Throws ChannelUnavailableError while the outcome is still unknown.
 */
async function learnTradeByReplay(
  deps: PollerDeps,
  channel: PaymentChannel,
  attempt: AttemptRow,
): Promise<'LEARNED' | 'REJECTED' | 'NOT_NEEDED'> {
  if (channel.findsTradeBy !== 'CREATE_ANSWER' || attempt.provider_trade_no) return 'NOT_NEEDED';
  const request = createRequestOf(attempt, notifyUrlOf(channel, deps.config.GATEWAY_PUBLIC_URL));
  if (!request) return 'NOT_NEEDED'; // recorded before creates were stored: nothing to replay
  try {
    const created = await channel.createTrade(request);
    if (!created.providerTradeNo) return 'NOT_NEEDED';
    await deps.attempts.learnProviderTradeNo(attempt.id, created.providerTradeNo);
    attempt.provider_trade_no = created.providerTradeNo;
    deps.metrics.queries.inc({ result: 'create_replayed' });
    return 'LEARNED';
  } catch (error) {
    if (error instanceof ChannelRejectedError) return 'REJECTED';
    throw error;
  }
}
