import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The refunder's reconciliation sweep reads successes settled recently; this index keeps that an
 * index range scan however long the history grows.
 */
export class SuccessSettledIndex1732400000000 implements MigrationInterface {
  name = 'SuccessSettledIndex1732400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX ix_channel_order_status_settled ON channel_order (status, settled_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX ix_channel_order_status_settled ON channel_order');
  }
}
