import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Room for long pay URLs, and the kind of an attempt's pay action (`qr` or `redirect`); `pay_url` holds its URL or QR content. */
export class PayAction1732600000000 implements MigrationInterface {
  name = 'PayAction1732600000000';

  async up(runner: QueryRunner): Promise<void> {
    // A page-pay URL carries its signed parameters: far longer than 512 characters.
    await runner.query(
      'ALTER TABLE channel_order MODIFY pay_url VARCHAR(4096) NULL, ADD COLUMN pay_action_type VARCHAR(16) NULL AFTER pay_url',
    );
    // Before this, only the sandbox QR channel showed a QR code; every other pay URL was opened.
    await runner.query(
      "UPDATE channel_order SET pay_action_type = IF(channel = 'sandbox-qr', 'qr', 'redirect') WHERE pay_url IS NOT NULL",
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      'ALTER TABLE channel_order DROP COLUMN pay_action_type, MODIFY pay_url VARCHAR(512) NULL',
    );
  }
}
