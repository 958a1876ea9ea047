import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which attempts a statement matched (issue 29.4), in a narrow table of its own instead of
 * channel_order.recon_date: marking a million matched attempts rewrote a million wide rows (every
 * page of channel_order dirtied, about 13 s of a 1,000,000-line run), where inserting their ids
 * writes a table a tenth of the size. "SUCCESS here, absent there" is the attempts of the window
 * without a row here. The marks made so far are carried over.
 */
export class ReconAttemptMatch1733210000000 implements MigrationInterface {
  name = 'ReconAttemptMatch1733210000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE recon_attempt_match (
      channel_order_id BIGINT NOT NULL PRIMARY KEY,
      bill_date DATE NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await runner.query(
      `INSERT INTO recon_attempt_match (channel_order_id, bill_date)
       SELECT id, recon_date FROM channel_order WHERE recon_date IS NOT NULL`,
    );
    await runner.query('ALTER TABLE channel_order DROP COLUMN recon_date');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE channel_order ADD COLUMN recon_date DATE NULL');
    await runner.query(
      `UPDATE channel_order c JOIN recon_attempt_match m ON m.channel_order_id = c.id SET c.recon_date = m.bill_date`,
    );
    await runner.query('DROP TABLE recon_attempt_match');
  }
}
