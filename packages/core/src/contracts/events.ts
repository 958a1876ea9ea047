import { z } from 'zod';
import { REFUND_REASONS } from './apply';

const money = { amount: z.number().int().positive(), currency: z.string().length(3) };
const order = { payOrderNo: z.string(), merchantOrderNo: z.string() };
const attempt = { ...order, channelOrderNo: z.string(), channel: z.string() };
const refund = {
  ...order,
  refundNo: z.string(),
  channelOrderNo: z.string(),
  reason: z.enum(REFUND_REASONS),
  ...money,
};

/** Every event of CONTRACT 4: the routing key beside the schema of its `data`. */
export const EVENT_DATA = {
  'channel_order.created': z.object({ ...attempt, ...money, expireAt: z.string() }),
  'channel_order.closed': z.object({ ...attempt }),
  'payment.succeeded': z.object({ ...attempt, ...money, paidAt: z.string() }),
  'payment.closed': z.object({ ...order, reason: z.enum(['CANCELLED', 'EXPIRED']) }),
  'payment.duplicate_detected': z.object({ ...attempt, ...money, paidChannelOrderNo: z.string() }),
  'payment.paid_after_close': z.object({ ...attempt, ...money }),
  /** The kept payment changed (CONTRACT 9): `to`, which cannot be refunded, is kept; `from` is refunded. */
  'payment.kept_changed': z.object({ ...order, from: z.string(), to: z.string() }),
  'refund.requested': z.object({ ...refund, status: z.enum(['PENDING_APPROVAL', 'PROCESSING']) }),
  'refund.succeeded': z.object({ ...refund }),
  'refund.failed': z.object({ ...refund, error: z.string() }),
  /** A refund owed by hand (MANUAL_REQUIRED): `why` says what a person must do. */
  'refund.manual_required': z.object({ ...refund, why: z.string() }),
  'order.notified': z.object({ ...order, notifiedEventId: z.string(), deliveredAt: z.string() }),
  'order.notify_failed': z.object({ ...order, notifiedEventId: z.string(), lastError: z.string() }),
} as const;

export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof EVENT_DATA)[T]>;

export interface EventEnvelope<T extends EventType = EventType> {
  eventId: string;
  type: T;
  occurredAt: string;
  data: EventData<T>;
}

export const envelopeSchema = z.object({
  eventId: z.string().min(1),
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  occurredAt: z.string(),
  data: z.unknown(),
});

/** Parses an envelope of one expected type; throws a zod error on anything else. */
export function parseEvent<T extends EventType>(type: T, body: unknown): EventEnvelope<T> {
  const envelope = envelopeSchema.parse(body);
  if (envelope.type !== type) throw new Error(`expected a ${type} event, got ${envelope.type}`);
  return { ...envelope, type, data: EVENT_DATA[type].parse(envelope.data) as EventData<T> };
}

/** Parses an envelope whose type is one of several. */
export function parseAnyEvent(body: unknown): EventEnvelope {
  const envelope = envelopeSchema.parse(body);
  return { ...envelope, data: EVENT_DATA[envelope.type].parse(envelope.data) } as EventEnvelope;
}
