/**
 * `payctl recon run --provider <p> --date <YYYY-MM-DD>` and `payctl recon report --date` (CONTRACT
 * 11). A run's exit code says what it found: 0 reconciled (pending items may remain), 3 breaks for
 * a person, 1 a statement that could not be fetched, verified or parsed (nothing was acted on).
 */
import type { Command } from 'commander';
import { createRegistry, type Config } from '@payments/platform';
import {
  formatDayReport,
  formatRunReport,
  loadDayReport,
  openDataSource,
  reconMetrics,
  runReconciliation,
} from '@payments/core';
import { createLogger, createProviders, loadConfig } from '@payments/providers';

const print = (text: string) => process.stdout.write(`${text}\n`);

export class ReconExit extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function registerRecon(program: Command, config: Config): void {
  const recon = program.command('recon').description("reconciliation against the providers' statements");
  recon
    .command('run')
    .description("read a provider's statement of a day, match it with our records and act on the differences")
    .requiredOption('--provider <name>', 'alipay | wechatpay | stripe | sandbox')
    .requiredOption('--date <YYYY-MM-DD>', "the bill date, in the provider's own time zone")
    .action(async (options: { provider: string; date: string }) => {
      if (!DATE.test(options.date)) throw new ReconExit('--date must be YYYY-MM-DD', 2);
      // The providers' sections too: a run asks the provider for its statement and its queries.
      const full = loadConfig(process.env);
      const log = createLogger('payctl', full.LOG_LEVEL === 'debug' ? 'debug' : 'warn');
      const registry = createRegistry('payctl');
      const { providers } = createProviders(full, registry, log);
      const provider = providers.find((candidate) => candidate.name === options.provider);
      if (!provider)
        throw new ReconExit(
          `provider ${options.provider} is not configured here (configured: ${providers.map((p) => p.name).join(', ')})`,
          2,
        );
      const dataSource = await openDataSource(config.DATABASE_URL, { poolSize: 2 });
      try {
        const report = await runReconciliation(
          { dataSource, provider, log, observe: reconMetrics(registry, dataSource, [provider.name]) },
          options.date,
        );
        if (!report)
          throw new ReconExit(
            `the run of ${options.provider} ${options.date} is held by another instance`,
            4,
          );
        for (const line of formatRunReport(report)) print(line);
        if (report.verdict === 'INCOMPLETE')
          throw new ReconExit(`reconciliation INCOMPLETE, nothing acted on: ${report.error ?? ''}`, 1);
        if (report.verdict === 'BREAKS') process.exitCode = 3;
      } finally {
        await dataSource.destroy();
      }
    });
  recon
    .command('report')
    .description(
      'per provider: lines read, matched, each kind of difference and its action, fees, every anomaly',
    )
    .requiredOption('--date <YYYY-MM-DD>', 'the bill date')
    .action(async (options: { date: string }) => {
      if (!DATE.test(options.date)) throw new ReconExit('--date must be YYYY-MM-DD', 2);
      const dataSource = await openDataSource(config.DATABASE_URL, { poolSize: 2 });
      try {
        print(formatDayReport(await loadDayReport(dataSource, options.date)));
      } finally {
        await dataSource.destroy();
      }
    });
}
