import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NODE_HEAP_OPTIONS } from '../../lib/processes';
import { GOALS_RECON, RECON_LINES, RECON_ROW_LIMIT_MS } from '../settings';
import type { RowContext } from './context';

const run = promisify(execFile);
const CHILD = join(__dirname, '..', 'recon-child.ts');

/** One phase of the row in a process of its own (its peak RSS its own), with the services' heap options. */
async function child(
  mode: 'seed' | 'raw' | 'recon',
  env: Record<string, string>,
): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [...NODE_HEAP_OPTIONS, '-r', 'tsx/cjs', CHILD, mode], {
    env: { ...process.env, ...env },
    maxBuffer: 1 << 20,
    timeout: 900_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/**
 * Reconciliation at scale (issue 29.4): a statement of RECON_LINES lines in the sandbox PSP's format
 * (made by a generator) against as many attempts of ours, reconciled by the engine in its own
 * process; beside it, the raw rate of reading and parsing the same file without matching, in the
 * same run. Peak RSS is each process's own (getrusage maxrss).
 */
export async function reconciliationRow(
  databaseUrl: string,
  lines = RECON_LINES,
): Promise<Record<string, unknown>> {
  const file = join(tmpdir(), `recon-bench-${process.pid}.jsonl`);
  const env = { DATABASE_URL: databaseUrl, RECON_LINES: String(lines), RECON_FILE: file, LOG_LEVEL: 'warn' };
  try {
    const seeded = await child('seed', env);
    const raw = await child('raw', env);
    const reconciled = await child('recon', env);
    const ratio = Number(reconciled.linesPerSecond) / Number(raw.linesPerSecond);
    return {
      lines,
      seeded,
      rawReadAndParse: raw,
      reconcile: reconciled,
      ratioToRaw: Math.round(ratio * 100) / 100,
      goals: GOALS_RECON,
      meetsGoals: {
        peakRss: Number(reconciled.peakRssMiB) < GOALS_RECON.peakRssMiB,
        ratioToRaw: ratio >= GOALS_RECON.ratioToRaw,
        linesPerSecond: Number(reconciled.linesPerSecond) >= GOALS_RECON.linesPerSecond,
      },
      note: "the statement's raw bytes are held whole by the seam (FetchedStatement.raw: Buffer), so the reconciling process's RSS includes the file's size",
    };
  } finally {
    rmSync(file, { force: true });
  }
}

export async function measureReconciliation({ stack, m, result }: RowContext): Promise<void> {
  if (RECON_LINES === 0) return;
  result.reconciliation = await m.phase(
    `reconciliation of a ${RECON_LINES}-line statement`,
    RECON_ROW_LIMIT_MS,
    () => reconciliationRow(stack.env.config.DATABASE_URL),
  );
}
