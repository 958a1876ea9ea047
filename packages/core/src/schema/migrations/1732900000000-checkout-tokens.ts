import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The cashier's tokens (CONTRACT 10): each the only credential a shopper's browser holds, bound to
 * one pay order. Only its SHA-256 is kept, so the table cannot be replayed into a token.
 */
export class CheckoutTokens1732900000000 implements MigrationInterface {
  name = 'CheckoutTokens1732900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE checkout_token (
      token_hash CHAR(64) NOT NULL PRIMARY KEY,
      pay_order_id BIGINT NOT NULL,
      channels VARCHAR(512) NOT NULL,
      return_url VARCHAR(512) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      KEY ix_checkout_pay_order (pay_order_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE checkout_token');
  }
}
