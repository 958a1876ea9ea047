import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an attempt's provider create was asked, fixed once (a retry sends the same: providers refuse
 * a repeated key with other parameters); whether its channel can refund through the provider (the
 * settlement keeps the payment that cannot be refunded); and the poller's claim to close an
 * attempt whose create was never confirmed (a confirmation that comes first wins, and one that
 * comes after the claim is refused, so no shopper is shown a trade that is being closed).
 */
export class ProviderTruth1733000000000 implements MigrationInterface {
  name = 'ProviderTruth1733000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE channel_order
      ADD COLUMN subject VARCHAR(128) NULL,
      ADD COLUMN return_url VARCHAR(2048) NULL,
      ADD COLUMN refundable TINYINT(1) NOT NULL DEFAULT 1,
      ADD COLUMN close_claimed_at DATETIME(3) NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE channel_order
      DROP COLUMN subject, DROP COLUMN return_url, DROP COLUMN refundable, DROP COLUMN close_claimed_at`);
  }
}
