import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The language a merchant asked a cashier page in (the checkout's `locale`, issue 31.3); null: the shopper's browser decides. */
export class CashierLocale1733100000000 implements MigrationInterface {
  name = 'CashierLocale1733100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE checkout_token ADD COLUMN locale VARCHAR(8) NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE checkout_token DROP COLUMN locale');
  }
}
