import type { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/**
 * Reconciliation against the providers' statements (CONTRACT 11, issue 29): each statement kept
 * raw with its SHA-256 (a LONGBLOB here, so any day can be replayed from the database alone), one
 * run row per (provider, bill date) that is also the daily claim across instances, the
 * differences with stable ids, and on our attempts and refunds the bill date a statement
 * matched them on (what "SUCCESS here, absent there" is found by).
 */
export class Reconciliation1733200000000 implements MigrationInterface {
  name = 'Reconciliation1733200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE recon_statement (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      provider VARCHAR(32) NOT NULL,
      bill_date DATE NOT NULL,
      sha256 CHAR(64) NOT NULL,
      byte_length BIGINT NOT NULL,
      chunks INT NOT NULL,
      fetched_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_recon_statement (provider, bill_date, sha256)
    ) ${TABLE}`);
    // The raw bytes in pieces of at most 4 MiB (MEDIUMBLOB), in order: one statement of any size is
    // written without a packet over max_allowed_packet (16 MiB by default) and replayed by
    // concatenating its chunks by seq.
    await runner.query(`CREATE TABLE recon_statement_chunk (
      statement_id BIGINT NOT NULL,
      seq INT NOT NULL,
      bytes MEDIUMBLOB NOT NULL,
      PRIMARY KEY (statement_id, seq)
    ) ${TABLE}`);
    await runner.query(`CREATE TABLE recon_run (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      provider VARCHAR(32) NOT NULL,
      bill_date DATE NOT NULL,
      status VARCHAR(16) NOT NULL,
      claimed_by VARCHAR(64) NULL,
      claimed_until DATETIME(3) NULL,
      retry_after DATETIME(3) NULL,
      runs INT NOT NULL DEFAULT 0,
      verdict VARCHAR(32) NULL,
      statement_id BIGINT NULL,
      report MEDIUMTEXT NULL,
      error VARCHAR(512) NULL,
      finished_at DATETIME(3) NULL,
      succeeded_at DATETIME(3) NULL,
      UNIQUE KEY uq_recon_run (provider, bill_date)
    ) ${TABLE}`);
    await runner.query(`CREATE TABLE recon_difference (
      id CHAR(26) NOT NULL PRIMARY KEY,
      provider VARCHAR(32) NOT NULL,
      kind VARCHAR(32) NOT NULL,
      reference VARCHAR(80) NOT NULL,
      channel_order_no VARCHAR(64) NULL,
      first_bill_date DATE NOT NULL,
      last_bill_date DATE NOT NULL,
      status VARCHAR(16) NOT NULL,
      action VARCHAR(32) NOT NULL,
      amount BIGINT NOT NULL,
      currency CHAR(3) NOT NULL,
      detail VARCHAR(512) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      resolved_at DATETIME(3) NULL,
      KEY ix_recon_difference_status (provider, status),
      KEY ix_recon_difference_last (last_bill_date),
      KEY ix_recon_difference_reference (provider, reference)
    ) ${TABLE}`);
    await runner.query(`ALTER TABLE channel_order ADD COLUMN recon_date DATE NULL`);
    await runner.query(`ALTER TABLE refund_order ADD COLUMN recon_date DATE NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE refund_order DROP COLUMN recon_date');
    await runner.query('ALTER TABLE channel_order DROP COLUMN recon_date');
    await runner.query('DROP TABLE recon_difference');
    await runner.query('DROP TABLE recon_run');
    await runner.query('DROP TABLE recon_statement_chunk');
    await runner.query('DROP TABLE recon_statement');
  }
}
