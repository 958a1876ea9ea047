/**
 * The daily reconciliation (CONTRACT 11): once it is RECON_AT in a provider's own time zone, the
 * previous day's statement of every configured provider that has one is reconciled. Checked every
 * sweep by every poller; the run row of (provider, date) is the claim, so a day is run once across
 * any number of instances (a run that failed, e.g. not ready yet, is tried again after a delay).
 */
import { errorMessage, Periodic, type Logger } from '@payments/platform';
import {
  billDateOf,
  previousDay,
  runReconciliation,
  type PaymentProvider,
  type ReconObserver,
  type RunReport,
} from '@payments/core';
import type { DataSource } from '@payments/platform';

/** HH:MM of an instant in a time zone. */
export function clockIn(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
}

/** The bill date due at `now` for a provider in `timeZone`: the previous day once it is `reconAt` there. */
export function dueBillDate(now: Date, timeZone: string, reconAt: string): string | undefined {
  return clockIn(now, timeZone) >= reconAt ? previousDay(billDateOf(now, timeZone)) : undefined;
}

export class DailyReconciliation {
  private readonly periodic: Periodic;

  constructor(
    private readonly deps: {
      dataSource: DataSource;
      providers: readonly PaymentProvider[];
      log: Logger;
      reconAt: string;
      everyMs: number;
      observe: ReconObserver;
    },
  ) {
    this.periodic = new Periodic(
      { name: 'daily reconciliation', everyMs: deps.everyMs, run: () => this.runOnce() },
      deps.log,
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** Runs each provider's due day unless done (or held) elsewhere; the reports of the runs made here. */
  async runOnce(now = new Date()): Promise<RunReport[]> {
    const reports: RunReport[] = [];
    for (const provider of this.deps.providers) {
      if (!provider.statements) continue;
      const date = dueBillDate(now, provider.statements.timeZone, this.deps.reconAt);
      if (!date) continue;
      // One provider's failure (its database work, not its statement: that ends INCOMPLETE) never
      // keeps the others from their run; its claim lapses and a later sweep takes it again.
      try {
        const report = await runReconciliation(
          { dataSource: this.deps.dataSource, provider, log: this.deps.log, observe: this.deps.observe },
          date,
          { daily: true },
        );
        if (report) reports.push(report);
      } catch (error) {
        this.deps.log.error(
          { provider: provider.name, date, err: errorMessage(error) },
          'daily reconciliation failed',
        );
      }
    }
    return reports;
  }
}
