import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refunds a provider cannot make (CONTRACT 9: Stripe refunds no Boleto payment) are owed back by
 * hand: `MANUAL_REQUIRED` until an operator records who paid it back, when, and their reference.
 */
export class ManualRefunds1732800000000 implements MigrationInterface {
  name = 'ManualRefunds1732800000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE refund_order
      ADD COLUMN settled_manually_by VARCHAR(64) NULL,
      ADD COLUMN settled_manually_at DATETIME(3) NULL,
      ADD COLUMN manual_reference VARCHAR(255) NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE refund_order
      DROP COLUMN settled_manually_by, DROP COLUMN settled_manually_at, DROP COLUMN manual_reference`);
  }
}
