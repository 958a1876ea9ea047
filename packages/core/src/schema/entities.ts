import { EntitySchema } from 'typeorm';
import type { AttemptStatus, PayOrderStatus, RefundReason, RefundStatus } from '../contracts';

/** Money columns are BIGINT minor units; mysql2 hands them back as numbers (all below 2^53). */
const money = {
  type: 'bigint',
  transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) },
} as const;
const timestamps = {
  createdAt: { type: 'datetime', precision: 3, name: 'created_at', createDate: true },
  updatedAt: { type: 'datetime', precision: 3, name: 'updated_at', updateDate: true },
} as const;

export interface PayOrder {
  id: number;
  payOrderNo: string;
  merchantOrderNo: string;
  amount: number;
  currency: string;
  subject: string;
  returnUrl: string | null;
  status: PayOrderStatus;
  paidChannelOrderNo: string | null;
  paidAt: Date | null;
  closedAt: Date | null;
  expireAt: Date;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const PayOrderEntity = new EntitySchema<PayOrder>({
  name: 'PayOrder',
  tableName: 'pay_order',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment', transformer: money.transformer },
    payOrderNo: { type: 'varchar', length: 40, name: 'pay_order_no' },
    merchantOrderNo: { type: 'varchar', length: 64, name: 'merchant_order_no' },
    amount: money,
    currency: { type: 'char', length: 3 },
    subject: { type: 'varchar', length: 128 },
    returnUrl: { type: 'varchar', length: 512, name: 'return_url', nullable: true },
    status: { type: 'varchar', length: 16 },
    paidChannelOrderNo: { type: 'varchar', length: 40, name: 'paid_channel_order_no', nullable: true },
    paidAt: { type: 'datetime', precision: 3, name: 'paid_at', nullable: true },
    closedAt: { type: 'datetime', precision: 3, name: 'closed_at', nullable: true },
    expireAt: { type: 'datetime', precision: 3, name: 'expire_at' },
    version: { type: 'int' },
    ...timestamps,
  },
});

export interface ChannelOrder {
  id: number;
  channelOrderNo: string;
  payOrderId: number;
  merchantOrderNo: string;
  channel: string;
  amount: number;
  currency: string;
  status: AttemptStatus;
  inflightKey: string | null;
  payUrl: string | null;
  payActionType: string | null;
  providerTradeNo: string | null;
  expireAt: Date;
  pollCount: number;
  nextPollAt: Date | null;
  needsReview: boolean;
  failureReason: string | null;
  settledAt: Date | null;
  subject: string | null;
  returnUrl: string | null;
  refundable: boolean;
  closeClaimedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const ChannelOrderEntity = new EntitySchema<ChannelOrder>({
  name: 'ChannelOrder',
  tableName: 'channel_order',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment', transformer: money.transformer },
    channelOrderNo: { type: 'varchar', length: 40, name: 'channel_order_no' },
    payOrderId: { type: 'bigint', name: 'pay_order_id', transformer: money.transformer },
    merchantOrderNo: { type: 'varchar', length: 64, name: 'merchant_order_no' },
    channel: { type: 'varchar', length: 32 },
    amount: money,
    currency: { type: 'char', length: 3 },
    status: { type: 'varchar', length: 16 },
    inflightKey: { type: 'varchar', length: 80, name: 'inflight_key', nullable: true },
    payUrl: { type: 'varchar', length: 4096, name: 'pay_url', nullable: true },
    payActionType: { type: 'varchar', length: 16, name: 'pay_action_type', nullable: true },
    providerTradeNo: { type: 'varchar', length: 255, name: 'provider_trade_no', nullable: true },
    expireAt: { type: 'datetime', precision: 3, name: 'expire_at' },
    pollCount: { type: 'int', name: 'poll_count' },
    nextPollAt: { type: 'datetime', precision: 3, name: 'next_poll_at', nullable: true },
    needsReview: { type: 'boolean', name: 'needs_review' },
    failureReason: { type: 'varchar', length: 255, name: 'failure_reason', nullable: true },
    settledAt: { type: 'datetime', precision: 3, name: 'settled_at', nullable: true },
    subject: { type: 'varchar', length: 128, nullable: true },
    returnUrl: { type: 'varchar', length: 2048, name: 'return_url', nullable: true },
    refundable: { type: 'boolean' },
    closeClaimedAt: { type: 'datetime', precision: 3, name: 'close_claimed_at', nullable: true },
    ...timestamps,
  },
});

export interface RefundOrder {
  id: number;
  refundNo: string;
  payOrderId: number;
  merchantOrderNo: string;
  channelOrderNo: string;
  channel: string;
  reason: RefundReason;
  amount: number;
  currency: string;
  status: RefundStatus;
  lastError: string | null;
  approvedAt: Date | null;
  approvedBy: string | null;
  settledManuallyBy: string | null;
  settledManuallyAt: Date | null;
  manualReference: string | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const RefundOrderEntity = new EntitySchema<RefundOrder>({
  name: 'RefundOrder',
  tableName: 'refund_order',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment', transformer: money.transformer },
    refundNo: { type: 'varchar', length: 64, name: 'refund_no' },
    payOrderId: { type: 'bigint', name: 'pay_order_id', transformer: money.transformer },
    merchantOrderNo: { type: 'varchar', length: 64, name: 'merchant_order_no' },
    channelOrderNo: { type: 'varchar', length: 40, name: 'channel_order_no' },
    channel: { type: 'varchar', length: 32 },
    reason: { type: 'varchar', length: 24 },
    amount: money,
    currency: { type: 'char', length: 3 },
    status: { type: 'varchar', length: 24 },
    lastError: { type: 'varchar', length: 512, name: 'last_error', nullable: true },
    approvedAt: { type: 'datetime', precision: 3, name: 'approved_at', nullable: true },
    approvedBy: { type: 'varchar', length: 64, name: 'approved_by', nullable: true },
    finishedAt: { type: 'datetime', precision: 3, name: 'finished_at', nullable: true },
    settledManuallyBy: { type: 'varchar', length: 64, name: 'settled_manually_by', nullable: true },
    settledManuallyAt: { type: 'datetime', precision: 3, name: 'settled_manually_at', nullable: true },
    manualReference: { type: 'varchar', length: 255, name: 'manual_reference', nullable: true },
    ...timestamps,
  },
});

export interface OutboxRow {
  id: number;
  eventId: string;
  eventType: string;
  payload: string;
  createdAt: Date;
  claimToken: string | null;
  claimedUntil: Date | null;
  sentAt: Date | null;
}

export const OutboxEntity = new EntitySchema<OutboxRow>({
  name: 'Outbox',
  tableName: 'outbox',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment', transformer: money.transformer },
    eventId: { type: 'char', length: 36, name: 'event_id' },
    eventType: { type: 'varchar', length: 64, name: 'event_type' },
    payload: { type: 'mediumtext' },
    createdAt: { type: 'datetime', precision: 3, name: 'created_at', createDate: true },
    claimToken: { type: 'char', length: 36, name: 'claim_token', nullable: true },
    claimedUntil: { type: 'datetime', precision: 3, name: 'claimed_until', nullable: true },
    sentAt: { type: 'datetime', precision: 3, name: 'sent_at', nullable: true },
  },
});

export interface NotificationLog {
  eventId: string;
  merchantOrderNo: string;
  payOrderNo: string;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const NotificationLogEntity = new EntitySchema<NotificationLog>({
  name: 'NotificationLog',
  tableName: 'notification_log',
  columns: {
    eventId: { type: 'varchar', length: 64, name: 'event_id', primary: true },
    merchantOrderNo: { type: 'varchar', length: 64, name: 'merchant_order_no' },
    payOrderNo: { type: 'varchar', length: 40, name: 'pay_order_no' },
    status: { type: 'varchar', length: 16 },
    attempts: { type: 'int' },
    lastError: { type: 'varchar', length: 512, name: 'last_error', nullable: true },
    deliveredAt: { type: 'datetime', precision: 3, name: 'delivered_at', nullable: true },
    ...timestamps,
  },
});

export interface CallbackLog {
  id: number;
  channel: string;
  channelOrderNo: string | null;
  signature: string | null;
  /** Whole when the callback was verified; else a bounded prefix (see bodySha256, bodyBytes). */
  rawBody: string;
  bodySha256: string | null;
  bodyBytes: number | null;
  outcome: string;
  detail: string | null;
  receivedAt: Date;
}

export const CallbackLogEntity = new EntitySchema<CallbackLog>({
  name: 'CallbackLog',
  tableName: 'callback_log',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment', transformer: money.transformer },
    channel: { type: 'varchar', length: 32 },
    channelOrderNo: { type: 'varchar', length: 64, name: 'channel_order_no', nullable: true },
    signature: { type: 'varchar', length: 1024, nullable: true },
    rawBody: { type: 'mediumtext', name: 'raw_body' },
    bodySha256: { type: 'char', length: 64, name: 'body_sha256', nullable: true },
    bodyBytes: { type: 'int', name: 'body_bytes', nullable: true },
    outcome: { type: 'varchar', length: 32 },
    detail: { type: 'varchar', length: 512, nullable: true },
    receivedAt: { type: 'datetime', precision: 3, name: 'received_at', createDate: true },
  },
});

export const ENTITIES = [
  PayOrderEntity,
  ChannelOrderEntity,
  RefundOrderEntity,
  OutboxEntity,
  NotificationLogEntity,
  CallbackLogEntity,
];
