/** What `payctl recon report --date` prints: each provider's run of that day, and every anomaly still open. */
import type { DataSource } from 'typeorm';
import type { RunReport } from './types';

export interface DayReport {
  date: string;
  runs: (RunReport & { runs: number; status: string })[];
  /** Anomalies still OPEN or PENDING from any earlier day (they carry until resolved or handled). */
  carried: {
    id: string;
    provider: string;
    kind: string;
    reference: string;
    status: string;
    amount: number;
    currency: string;
    detail: string;
    firstBillDate: string;
  }[];
}

const day = (value: Date | string) =>
  value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);

export async function loadDayReport(dataSource: DataSource, date: string): Promise<DayReport> {
  const rows = (await dataSource.query(
    'SELECT provider, status, verdict, error, report, runs FROM recon_run WHERE bill_date = ? ORDER BY provider',
    [date],
  )) as {
    provider: string;
    status: string;
    verdict: string | null;
    error: string | null;
    report: string | null;
    runs: number;
  }[];
  const runs = rows.map((row) => {
    const report: RunReport = row.report
      ? (JSON.parse(row.report) as RunReport)
      : {
          provider: row.provider,
          date,
          verdict: 'INCOMPLETE',
          linesRead: 0,
          matched: 0,
          fees: {},
          differences: [],
          bridges: [],
        };
    // A failed run after a completed one keeps the completed report, with the failure beside it.
    return {
      ...report,
      ...(row.status === 'FAILED' ? { verdict: 'INCOMPLETE' as const, error: row.error ?? undefined } : {}),
      runs: Number(row.runs),
      status: row.status,
    };
  });
  const carried = (
    (await dataSource.query(
      `SELECT id, provider, kind, reference, status, amount, currency, detail, first_bill_date FROM recon_difference
        WHERE status IN ('OPEN', 'PENDING') AND first_bill_date < ? ORDER BY provider, first_bill_date, id`,
      [date],
    )) as {
      id: string;
      provider: string;
      kind: string;
      reference: string;
      status: string;
      amount: string;
      currency: string;
      detail: string;
      first_bill_date: Date;
    }[]
  ).map((row) => ({
    id: row.id,
    provider: row.provider,
    kind: row.kind,
    reference: row.reference,
    status: row.status,
    amount: Number(row.amount),
    currency: row.currency,
    detail: row.detail,
    firstBillDate: day(row.first_bill_date),
  }));
  return { date, runs, carried };
}

/** One provider's run, as an operator reads it. */
export function formatRunReport(report: RunReport): string[] {
  const out = [
    `${report.provider} ${report.date}: ${report.verdict}${report.error ? ` (${report.error})` : ''}`,
    `  lines read ${report.linesRead}, matched ${report.matched}${report.sha256 ? `, sha256 ${report.sha256}` : ''}`,
  ];
  for (const [currency, fee] of Object.entries(report.fees)) out.push(`  fees ${currency} ${fee}`);
  const kinds = new Map<string, Map<string, number>>();
  for (const difference of report.differences) {
    const actions = kinds.get(difference.kind) ?? new Map<string, number>();
    const key = `${difference.status} ${difference.action}`;
    actions.set(key, (actions.get(key) ?? 0) + 1);
    kinds.set(difference.kind, actions);
  }
  for (const [kind, actions] of kinds)
    out.push(`  ${kind}: ${[...actions].map(([action, n]) => `${n} ${action}`).join(', ')}`);
  for (const bridge of report.bridges) {
    const explained = Object.entries(bridge.explained)
      .map(([kind, amount]) => ` - ${kind} ${amount}`)
      .join('');
    out.push(
      `  bridge ${bridge.currency}: statement ${bridge.statementPayments} - ${bridge.statementRefunds} = ${bridge.statementNet}; matched ${bridge.matched}${explained}; residual ${bridge.residual}; fees ${bridge.fees}`,
    );
  }
  for (const difference of report.differences)
    if (difference.status === 'OPEN' || difference.status === 'PENDING')
      out.push(
        `  ${difference.status === 'OPEN' ? 'ANOMALY' : 'PENDING'} ${difference.id} ${difference.kind} ${difference.reference} ${difference.amount} ${difference.currency} [${difference.change}]: ${difference.detail}`,
      );
  for (const difference of report.differences)
    if (difference.status === 'ACTED' || difference.status === 'RESOLVED')
      out.push(
        `  ${difference.status} ${difference.id} ${difference.kind} ${difference.reference} ${difference.amount} ${difference.currency}: ${difference.action} [${difference.change}]`,
      );
  return out;
}

export function formatDayReport(report: DayReport): string {
  const out = report.runs.length === 0 ? [`no reconciliation run for ${report.date}`] : [];
  for (const run of report.runs) out.push(...formatRunReport(run));
  for (const item of report.carried)
    out.push(
      `carried ${item.status === 'OPEN' ? 'ANOMALY' : 'PENDING'} ${item.id} ${item.provider} ${item.kind} ${item.reference} ${item.amount} ${item.currency} since ${item.firstBillDate}: ${item.detail}`,
    );
  return out.join('\n');
}
