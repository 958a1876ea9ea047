import {
  attemptFacts,
  attemptRef,
  ChannelUnavailableError,
  closeAndSettle,
  errorMessage,
  meaningOfNotFound,
  PermanentError,
  REPLAYED_AT_HEADER,
  settleAttempt,
  type Delivery,
  type EventEnvelope,
  type HandlerResult,
  type ProviderOutcome,
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
    throw new PermanentError(`attempt ${channelOrderNo} is on unknown channel ${attempt.channel}`);

  const now = new Date();
  const expired = now.getTime() >= new Date(attempt.expire_at).getTime();
  // Recorded, but the provider never confirmed the create (it timed out, or a gateway stopped in
  // between): nobody holds a pay URL for it, and the trade may appear at the provider later.
  const unconfirmed = attempt.pay_url === null;
  let answer: ProviderOutcome | 'ERROR';
  let found = false;
  try {
    const queried = await channel.queryTrade(attemptRef(attempt));
    if (queried === 'NOT_FOUND') {
      answer =
        meaningOfNotFound(attemptFacts(attempt), now) === 'NOT_YET'
          ? { status: 'PAYING' } // a create may still arrive: keep asking
          : unconfirmed
            ? { status: 'FAILED', reason: 'never found at the provider, and past its expiry' }
            : { status: 'CLOSED' };
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
    // The trade exists but no shopper was given it: close it now rather than leave it payable.
    try {
      const closed = await closeAndSettle(deps.dataSource, channel, attempt);
      deps.metrics.observeSettlement(closed.result);
      deps.relay.kick();
      if (closed.closed || closed.paid) return;
    } catch (error) {
      delivery.log.warn({ channelOrderNo, err: errorMessage(error) }, 'close of an unconfirmed trade failed');
    }
  }

  let decision = decidePoll(answer, position, schedule, expired);
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
    decision = decidePoll(closeTried ? answer : 'ERROR', { ...position, closeTried }, schedule, expired);
  }

  switch (decision.action) {
    case 'SETTLE': {
      const result = await settleAttempt(deps.dataSource, channelOrderNo, decision.outcome, {
        publishAfterCommit: true,
      });
      deps.metrics.observeSettlement(result);
      deps.relay.publishCommitted(result?.events ?? []);
      if (result?.settlement.kind === 'AMOUNT_MISMATCH' && decision.outcome.status === 'SUCCESS') {
        // Money was taken, but not the amount we asked for: no rule settles that; a person must.
        const reason = `provider reports ${decision.outcome.amount} ${decision.outcome.currency} paid, attempt is ${attempt.amount} ${attempt.currency}`;
        await deps.attempts.markForReview(attempt.id, reason);
        throw new PermanentError(reason);
      }
      delivery.log.info({ channelOrderNo, settled: result?.settlement.kind }, 'settled by polling');
      return;
    }
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
