import {
  attemptFacts,
  attemptRef,
  ChannelRejectedError,
  ChannelUnavailableError,
  closeAndSettle,
  createRequestOf,
  errorMessage,
  notifyUrlOf,
  meaningOfQuery,
  PermanentError,
  REPLAYED_AT_HEADER,
  settleAttempt,
  type Delivery,
  type EventEnvelope,
  type AttemptRow,
  type HandlerResult,
  type PaymentChannel,
  type ProviderOutcome,
  waitForUnservedChannel,
} from '@payments/common';
import type { PollerDeps } from '../deps';
import { positionHeaders, readPosition } from '../domain/poll-headers';
import { decidePoll, type PollPosition } from '../domain/poll-plan';

/**
 * One poll of one attempt (DESIGN rule 4). The `channel_order.created` event starts the chain;
 * each later message carries its position and comes back through a delay tier. Only the message
 * owning the attempt's current poll_count polls, so duplicates and sweeps never double the chain.
 */
export async function onChannelOrderCreated(
  delivery: Delivery<EventEnvelope<'channel_order.created'>>,
  deps: PollerDeps,
): Promise<HandlerResult> {
  const { channelOrderNo } = delivery.body.data;
  const schedule = deps.config.POLL_SCHEDULE;
  const position = readPosition(delivery.message.properties.headers);
  if (!position) {
    // An attempt parked for review comes back here when a person replays its dead letter: it
    // gets a fresh schedule (and a fresh close at expiry) from its current poll_count. Only a
    // replayed message can be one; a new attempt's event needs no read.
    const replayed = delivery.message.properties.headers?.[REPLAYED_AT_HEADER] !== undefined;
    const parked = replayed ? await deps.attempts.find(channelOrderNo) : undefined;
    if (parked?.status === 'PAYING' && parked.needs_review) {
      if (!(await deps.attempts.resumeAfterReview(parked.id, parked.poll_count, schedule[0]!))) return;
      delivery.log.info({ channelOrderNo }, 'attempt taken back from review; polling again');
      const resumed: PollPosition = {
        seq: parked.poll_count + 1,
        step: 0,
        closeTried: false,
        afterExpiry: 0,
      };
      return { reschedule: { delayMs: schedule[0]!, headers: positionHeaders(resumed) } };
    }
    // The event itself: the first query waits for the schedule's first step.
    const start: PollPosition = { seq: 0, step: 0, closeTried: false, afterExpiry: 0 };
    return { reschedule: { delayMs: schedule[0]!, headers: positionHeaders(start) } };
  }

  const attempt = await deps.attempts.find(channelOrderNo);
  if (!attempt) throw new PermanentError(`no attempt ${channelOrderNo} in this database`);
  if (attempt.status !== 'PAYING') return; // final: the chain ends
  if (attempt.poll_count !== position.seq) {
    delivery.log.debug(
      { channelOrderNo, seq: position.seq, owner: attempt.poll_count },
      'stale poll message dropped',
    );
    return;
  }
  const channel = deps.channels.get(attempt.channel);
  if (!channel)
    return waitForUnservedChannel(
      delivery.log,
      attempt.channel,
      { channelOrderNo },
      deps.config.RETRY_SCHEDULE,
    );

  const now = new Date();
  const expired = now.getTime() >= new Date(attempt.expire_at).getTime();
  // Recorded, but the provider never confirmed the create (it timed out, or a gateway stopped in
  // between): nobody holds a pay URL for it, and the trade may appear at the provider later.
  const unconfirmed = attempt.pay_url === null;
  let answer: ProviderOutcome | 'ERROR';
  let found = false;
  try {
    const learned = await learnTradeByReplay(deps, channel, attempt);
    if (learned === 'REJECTED') {
      // The provider refused the create itself (the same request, replayed): there is no trade.
      answer = { status: 'FAILED', reason: 'the provider refused the create when it was sent again' };
      return settleByPoll(deps, delivery, attempt, answer);
    }
    const queried = await channel.queryTrade(attemptRef(attempt));
    if (queried === 'NOT_FOUND') {
      answer = meaningOfQuery(queried, attemptFacts(attempt), now);
      deps.metrics.queries.inc({ result: 'not_found' });
    } else {
      answer = queried;
      found = true;
      deps.metrics.queries.inc({ result: answer.status.toLowerCase() });
    }
  } catch (error) {
    if (!(error instanceof ChannelUnavailableError)) throw error;
    deps.metrics.queries.inc({ result: 'error' });
    delivery.log.warn({ channelOrderNo, err: errorMessage(error) }, 'provider query failed; same step again');
    answer = 'ERROR';
  }

  if (
    unconfirmed &&
    found &&
    answer !== 'ERROR' &&
    answer.status === 'PAYING' &&
    channel.closable &&
    !expired
  ) {
    // The trade exists but no shopper was given it: close it now rather than leave it payable. A
    // retried apply may be confirming the same attempt right now: whichever of the two marks the
    // row first wins (the claim needs no pay URL; the confirmation needs no claim).
    if (await deps.attempts.claimClose(attempt.id)) {
      let ended = false;
      try {
        const closed = await closeAndSettle(deps.dataSource, channel, attempt);
        deps.metrics.observeSettlement(closed.result);
        deps.relay.kick();
        ended = closed.closed || closed.paid;
      } catch (error) {
        delivery.log.warn(
          { channelOrderNo, err: errorMessage(error) },
          'close of an unconfirmed trade failed',
        );
      }
      if (ended) return;
      await deps.attempts.releaseClose(attempt.id);
    } else {
      delivery.log.info(
        { channelOrderNo },
        'confirmed by a retried apply meanwhile: left open for the shopper',
      );
    }
  }

  let decision = decidePoll(answer, position, schedule, expired, now.getTime());
  if (decision.action === 'CLOSE_EXPIRED') {
    let closeTried = false;
    try {
      const closed = await closeAndSettle(deps.dataSource, channel, attempt);
      deps.metrics.observeSettlement(closed.result);
      deps.relay.kick();
      if (closed.closed || closed.paid) return;
      // Cannot be closed (voucher), or not found yet: keep asking until the provider's answer is final.
      closeTried = true;
    } catch (error) {
      delivery.log.warn(
        { channelOrderNo, err: errorMessage(error) },
        'close at expiry failed; will try again',
      );
    }
    decision = decidePoll(
      closeTried ? answer : 'ERROR',
      { ...position, closeTried },
      schedule,
      expired,
      now.getTime(),
    );
  }

  switch (decision.action) {
    case 'SETTLE':
      return settleByPoll(deps, delivery, attempt, decision.outcome);
    case 'NEXT': {
      if (!(await deps.attempts.claimNextPoll(attempt.id, position.seq, decision.delayMs))) return;
      return { reschedule: { delayMs: decision.delayMs, headers: positionHeaders(decision.position) } };
    }
    case 'GIVE_UP': {
      await deps.attempts.markForReview(attempt.id, decision.reason);
      throw new PermanentError(decision.reason);
    }
    case 'CLOSE_EXPIRED':
      throw new Error('close at expiry decided twice');
    default: {
      const unknown: never = decision;
      throw new Error(`unknown poll decision ${JSON.stringify(unknown)}`);
    }
  }
}

/** Settles what a poll found; money taken but not the amount asked for is parked for a person. */
async function settleByPoll(
  deps: PollerDeps,
  delivery: Delivery<EventEnvelope<'channel_order.created'>>,
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
  delivery.log.info({ channelOrderNo, settled: result?.settlement.kind }, 'settled by polling');
}

/**
 * A provider that finds a trade only by the create's answer (Stripe: the session id), for an
 * attempt whose create answer was lost: the same create is sent again, as first asked (Stripe
 * replays a keyed request for 24 h), and the trade's id it names is stored, so the query below can
 * ask for it. No pay URL is stored: no shopper was given one. Changes `attempt` in place.
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
