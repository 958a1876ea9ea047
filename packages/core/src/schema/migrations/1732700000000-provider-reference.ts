import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Providers' own references are longer than 64 characters (Stripe Checkout ids reach 66 and more). */
export class ProviderReference1732700000000 implements MigrationInterface {
  name = 'ProviderReference1732700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE channel_order MODIFY provider_trade_no VARCHAR(255) NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE channel_order MODIFY provider_trade_no VARCHAR(64) NULL');
  }
}
