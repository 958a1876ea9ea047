import type { PollPosition } from './poll-plan';

const SEQ = 'x-poll-seq';
const STEP = 'x-poll-step';
const CLOSE_TRIED = 'x-poll-close-tried';
const AFTER_EXPIRY = 'x-poll-after-expiry';
const PAYABLE_UNTIL = 'x-poll-payable-until';

/** The poll position a message carries; undefined for the `channel_order.created` event itself. */
export function readPosition(headers: Record<string, unknown> | undefined): PollPosition | undefined {
  if (headers?.[SEQ] === undefined) return undefined;
  return {
    seq: Number(headers[SEQ]),
    step: Number(headers[STEP] ?? 0),
    closeTried: headers[CLOSE_TRIED] === true || headers[CLOSE_TRIED] === 'true',
    afterExpiry: Number(headers[AFTER_EXPIRY] ?? 0),
    ...(headers[PAYABLE_UNTIL] !== undefined ? { payableUntil: Number(headers[PAYABLE_UNTIL]) } : {}),
  };
}

export function positionHeaders(position: PollPosition): Record<string, unknown> {
  return {
    [SEQ]: position.seq,
    [STEP]: position.step,
    [CLOSE_TRIED]: position.closeTried,
    [AFTER_EXPIRY]: position.afterExpiry,
    ...(position.payableUntil !== undefined ? { [PAYABLE_UNTIL]: position.payableUntil } : {}),
  };
}
