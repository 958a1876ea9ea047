import type { DataSource } from 'typeorm';
import { Counter, Gauge, type Registry } from '@payments/platform';
import type { ReconObserver } from './types';

/**
 * `recon_items_total{provider,kind}` (differences first recorded, by kind), `recon_runs_total{provider,verdict}`,
 * `recon_provider_configured{provider}` (1 for each provider reconciled daily), and, read from the database so every instance shows runs made anywhere (payctl included):
 * `recon_last_run_timestamp_seconds{provider}` (the last run that read and verified a statement,
 * whatever it found) and `recon_last_success_timestamp_seconds{provider}` (the last one that
 * reconciled: RECONCILED or RECONCILED_WITH_PENDING).
 */
export function reconMetrics(
  registry: Registry,
  dataSource: DataSource,
  providers: readonly string[],
): ReconObserver {
  const items = new Counter({
    name: 'recon_items_total',
    help: 'Reconciliation differences recorded for the first time, by provider and kind',
    labelNames: ['provider', 'kind'],
    registers: [registry],
  });
  const runs = new Counter({
    name: 'recon_runs_total',
    help: 'Reconciliation runs by provider and verdict (INCOMPLETE: the statement could not be fetched, verified or parsed)',
    labelNames: ['provider', 'verdict'],
    registers: [registry],
  });
  const stamp = (name: string, help: string, verdicts: string) =>
    new Gauge({
      name,
      help,
      labelNames: ['provider'],
      registers: [registry],
      async collect() {
        const rows = (await dataSource
          .query(
            `SELECT provider, UNIX_TIMESTAMP(MAX(succeeded_at)) AS at FROM recon_run
              WHERE succeeded_at IS NOT NULL AND verdict IN (${verdicts}) GROUP BY provider`,
          )
          .catch(() => [])) as { provider: string; at: string | number | null }[];
        const seen = new Map(rows.map((row) => [row.provider, Number(row.at)]));
        for (const provider of providers) if (seen.has(provider)) this.set({ provider }, seen.get(provider)!);
      },
    });
  // 1 for every provider this poller reconciles daily, run or not: what the alert holds the stamps to
  // (a provider configured beside others whose runs never completed has no stamp of its own).
  const configured = new Gauge({
    name: 'recon_provider_configured',
    help: 'Providers whose statements this poller reconciles daily (1 each)',
    labelNames: ['provider'],
    registers: [registry],
  });
  for (const provider of providers) configured.set({ provider }, 1);
  stamp(
    'recon_last_run_timestamp_seconds',
    'Unix time of the last completed reconciliation run (a statement read and verified)',
    "'BREAKS', 'RECONCILED_WITH_PENDING', 'RECONCILED'",
  );
  stamp(
    'recon_last_success_timestamp_seconds',
    'Unix time of the last reconciliation run that reconciled (RECONCILED or RECONCILED_WITH_PENDING)',
    "'RECONCILED_WITH_PENDING', 'RECONCILED'",
  );
  return {
    item: (provider, kind) => items.inc({ provider, kind }),
    run: (provider, verdict) => runs.inc({ provider, verdict }),
  };
}
