import { REPLAYED_AT_HEADER, type Delivery, type HandlerResult } from '@payments/platform';
import { type EventEnvelope } from '@payments/core';
import type { PollerDeps } from '../deps';
import { readPosition } from '../domain/poll-headers';
import { pollAttempt } from '../operations/poll-attempt';

/** `channel_order.created` and the poll messages after it: one poll of the attempt it names. */
export async function onChannelOrderCreated(
  delivery: Delivery<EventEnvelope<'channel_order.created'>>,
  deps: PollerDeps,
): Promise<HandlerResult> {
  const headers = delivery.message.properties.headers;
  return pollAttempt(deps, delivery.log, {
    channelOrderNo: delivery.body.data.channelOrderNo,
    position: readPosition(headers),
    replayed: headers?.[REPLAYED_AT_HEADER] !== undefined,
  });
}
