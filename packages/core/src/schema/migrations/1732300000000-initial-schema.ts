import type { MigrationInterface, QueryRunner } from 'typeorm';

const TIMESTAMPS = `
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)`;
const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** The tables of DESIGN "Data". Correctness lives in the unique keys here, not only in locks. */
export class InitialSchema1732300000000 implements MigrationInterface {
  name = 'InitialSchema1732300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE pay_order (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      pay_order_no VARCHAR(40) NOT NULL,
      merchant_order_no VARCHAR(64) NOT NULL,
      amount BIGINT NOT NULL,
      currency CHAR(3) NOT NULL,
      subject VARCHAR(128) NOT NULL,
      return_url VARCHAR(512) NULL,
      status VARCHAR(16) NOT NULL,
      paid_channel_order_no VARCHAR(40) NULL,
      paid_at DATETIME(3) NULL,
      closed_at DATETIME(3) NULL,
      expire_at DATETIME(3) NOT NULL,
      version INT NOT NULL DEFAULT 0,${TIMESTAMPS},
      UNIQUE KEY uq_pay_order_no (pay_order_no),
      UNIQUE KEY uq_pay_order_merchant_order_no (merchant_order_no),
      KEY ix_pay_order_status_expire (status, expire_at)
    ) ${TABLE}`);
    // inflight_key is "<pay_order_id>:<channel>" while PAYING and NULL once final: at most one
    // in-flight attempt per pay order and channel, enforced by the database.
    await runner.query(`CREATE TABLE channel_order (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      channel_order_no VARCHAR(40) NOT NULL,
      pay_order_id BIGINT NOT NULL,
      merchant_order_no VARCHAR(64) NOT NULL,
      channel VARCHAR(32) NOT NULL,
      amount BIGINT NOT NULL,
      currency CHAR(3) NOT NULL,
      status VARCHAR(16) NOT NULL,
      inflight_key VARCHAR(80) NULL,
      pay_url VARCHAR(512) NULL,
      provider_trade_no VARCHAR(64) NULL,
      expire_at DATETIME(3) NOT NULL,
      poll_count INT NOT NULL DEFAULT 0,
      next_poll_at DATETIME(3) NULL,
      needs_review TINYINT(1) NOT NULL DEFAULT 0,
      failure_reason VARCHAR(255) NULL,
      settled_at DATETIME(3) NULL,${TIMESTAMPS},
      UNIQUE KEY uq_channel_order_no (channel_order_no),
      UNIQUE KEY uq_channel_order_inflight (inflight_key),
      KEY ix_channel_order_pay_order (pay_order_id),
      KEY ix_channel_order_status_next_poll (status, next_poll_at)
    ) ${TABLE}`);
    await runner.query(`CREATE TABLE refund_order (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      refund_no VARCHAR(64) NOT NULL,
      pay_order_id BIGINT NOT NULL,
      merchant_order_no VARCHAR(64) NOT NULL,
      channel_order_no VARCHAR(40) NOT NULL,
      channel VARCHAR(32) NOT NULL,
      reason VARCHAR(24) NOT NULL,
      amount BIGINT NOT NULL,
      currency CHAR(3) NOT NULL,
      status VARCHAR(24) NOT NULL,
      last_error VARCHAR(512) NULL,
      approved_at DATETIME(3) NULL,
      finished_at DATETIME(3) NULL,${TIMESTAMPS},
      UNIQUE KEY uq_refund_no (refund_no),
      UNIQUE KEY uq_refund_attempt_reason (channel_order_no, reason),
      KEY ix_refund_pay_order (pay_order_id),
      KEY ix_refund_status_created (status, created_at)
    ) ${TABLE}`);
    await runner.query(`CREATE TABLE outbox (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      event_id CHAR(36) NOT NULL,
      event_type VARCHAR(64) NOT NULL,
      payload MEDIUMTEXT NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      claim_token CHAR(36) NULL,
      claimed_until DATETIME(3) NULL,
      sent_at DATETIME(3) NULL,
      UNIQUE KEY uq_outbox_event_id (event_id),
      KEY ix_outbox_unsent (sent_at, id),
      KEY ix_outbox_claim (claim_token)
    ) ${TABLE}`);
    await runner.query(`CREATE TABLE inbox (
      consumer VARCHAR(64) NOT NULL,
      event_id VARCHAR(64) NOT NULL,
      processed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (consumer, event_id)
    ) ${TABLE}`);
    await runner.query(`CREATE TABLE callback_log (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      channel VARCHAR(32) NOT NULL,
      channel_order_no VARCHAR(64) NULL,
      signature VARCHAR(200) NULL,
      raw_body MEDIUMTEXT NOT NULL,
      outcome VARCHAR(32) NOT NULL,
      detail VARCHAR(512) NULL,
      received_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      KEY ix_callback_channel_order (channel_order_no)
    ) ${TABLE}`);
    await runner.query(`CREATE TABLE notification_log (
      event_id VARCHAR(64) NOT NULL PRIMARY KEY,
      merchant_order_no VARCHAR(64) NOT NULL,
      pay_order_no VARCHAR(40) NOT NULL,
      status VARCHAR(16) NOT NULL,
      attempts INT NOT NULL DEFAULT 0,
      last_error VARCHAR(512) NULL,
      delivered_at DATETIME(3) NULL,${TIMESTAMPS},
      KEY ix_notification_merchant_order (merchant_order_no),
      KEY ix_notification_status (status, updated_at)
    ) ${TABLE}`);
    // The AMQP apply command's messageId is its idempotency key: the first answer is replayed.
    await runner.query(`CREATE TABLE apply_request (
      message_id VARCHAR(128) NOT NULL PRIMARY KEY,
      merchant_order_no VARCHAR(64) NOT NULL,
      response_status INT NOT NULL,
      response_body MEDIUMTEXT NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ${TABLE}`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'apply_request',
      'notification_log',
      'callback_log',
      'inbox',
      'outbox',
      'refund_order',
      'channel_order',
      'pay_order',
    ]) {
      await runner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
