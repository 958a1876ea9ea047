import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NODE_HEAP_OPTIONS } from '../../lib/processes';
import { STATEMENT_PROVIDERS, type StatementProvider } from '../../lib/statements';
import { GOALS_RECON, RECON_LINES, RECON_ROW_LIMIT_MS } from '../settings';
import type { RowContext } from './context';

const run = promisify(execFile);
const CHILD = join(__dirname, '..', 'recon-child.ts');

/**
 * One phase of the row in a process of its own (its peak RSS its own), with the services' heap
 * options; RECON_CPU_PROF=<dir> profiles the reconciling processes (`npm run profile-top -- <dir>`).
 */
async function child(
  mode: 'seed' | 'write' | 'reset' | 'raw' | 'recon',
  env: Record<string, string>,
  format?: StatementProvider,
): Promise<Record<string, unknown>> {
  const profile =
    mode === 'recon' && process.env.RECON_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.RECON_CPU_PROF, format!)}`]
      : [];
  const { stdout } = await run(
    process.execPath,
    [...NODE_HEAP_OPTIONS, ...profile, '-r', 'tsx/cjs', CHILD, mode, ...(format ? [format] : [])],
    { env: { ...process.env, ...env }, maxBuffer: 1 << 20, timeout: 900_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** One format: its statement written, read raw, then reconciled from a fresh state; the ratio and the goals. */
async function formatRow(format: StatementProvider, env: Record<string, string>) {
  const written = await child('write', env, format);
  const raw = await child('raw', env, format);
  await child('reset', env);
  const reconciled = await child('recon', env, format);
  const ratio = Number(reconciled.linesPerSecond) / Number(raw.linesPerSecond);
  return {
    written,
    rawReadAndParse: raw,
    reconcile: reconciled,
    ratioToRaw: Math.round(ratio * 100) / 100,
    meetsGoals: {
      peakRss: Number(reconciled.peakRssMiB) < GOALS_RECON.peakRssMiB,
      ratioToRaw: ratio >= GOALS_RECON.ratioToRaw,
      linesPerSecond: Number(reconciled.linesPerSecond) >= GOALS_RECON.linesPerSecond,
    },
  };
}

/**
 * Reconciliation at scale (issue 29.4): RECON_LINES attempts of ours seeded once; then per
 * provider format (sandbox, Alipay, WeChat Pay, Stripe) a statement of as many lines made by the
 * generator in that format, the raw rate of reading and parsing it with the provider's reader
 * without matching, and its reconciliation by the engine in a process of its own (the statement
 * spooled as a fetch would, checked, kept, matched), in the same run. Peak RSS is each process's
 * own (getrusage maxrss).
 */
export async function reconciliationRow(
  databaseUrl: string,
  lines = RECON_LINES,
  formats: readonly StatementProvider[] = STATEMENT_PROVIDERS,
): Promise<Record<string, unknown>> {
  const file = join(tmpdir(), `recon-bench-${process.pid}.statement`);
  const env = { DATABASE_URL: databaseUrl, RECON_LINES: String(lines), RECON_FILE: file, LOG_LEVEL: 'warn' };
  try {
    const seeded = await child('seed', env);
    const byFormat: Record<string, unknown> = {};
    for (const format of formats) byFormat[format] = await formatRow(format, env);
    return { lines, seeded, goals: GOALS_RECON, formats: byFormat };
  } finally {
    rmSync(file, { force: true });
    rmSync(`${file}.json`, { force: true });
  }
}

export async function measureReconciliation({ stack, m, result }: RowContext): Promise<void> {
  if (RECON_LINES === 0) return;
  result.reconciliation = await m.phase(
    `reconciliation of a ${RECON_LINES}-line statement in each provider's format`,
    RECON_ROW_LIMIT_MS,
    () => reconciliationRow(stack.env.config.DATABASE_URL),
  );
}
