import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the hostile review asked of the schema: unverified callbacks stored as a bounded prefix
 * with the whole body's hash and size, signatures stored whole (an RSA2 one is 344 characters),
 * a queued apply's parameters fingerprinted so a reused messageId is told apart, and who
 * approved a refund.
 */
export class HostileReview1732500000000 implements MigrationInterface {
  name = 'HostileReview1732500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE callback_log
      MODIFY signature VARCHAR(1024) NULL,
      ADD COLUMN body_sha256 CHAR(64) NULL,
      ADD COLUMN body_bytes INT NULL`);
    await runner.query('ALTER TABLE apply_request ADD COLUMN request_sha256 CHAR(64) NULL');
    await runner.query('ALTER TABLE refund_order ADD COLUMN approved_by VARCHAR(64) NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE refund_order DROP COLUMN approved_by');
    await runner.query('ALTER TABLE apply_request DROP COLUMN request_sha256');
    await runner.query(`ALTER TABLE callback_log
      DROP COLUMN body_bytes,
      DROP COLUMN body_sha256,
      MODIFY signature VARCHAR(200) NULL`);
  }
}
