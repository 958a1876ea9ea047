/**
 * The reconciliation row's own process (issue 29.4), so its peak RSS is its own: one of
 * - `seed`: RECON_LINES attempts SUCCESS in the database and the sandbox PSP's statement of them
 *   (JSON lines, summary last) written to RECON_FILE by a generator, streamed;
 * - `raw`: the same file read and parsed (every line into a StatementLine), no matching;
 * - `recon`: the file reconciled by the engine (runReconciliation), as a statement the sandbox
 *   provider fetched: verified, its summary checked, kept, every line matched in the database.
 * Prints one JSON object on stdout.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { createLogger } from '@payments/platform';
import { openDataSource, runReconciliation, type PaymentProvider } from '@payments/core';
import { rawLines, readSandboxLine, sandboxStatement } from '../../packages/providers/src/sandbox/statement';

const mode = process.argv[2];
const LINES = Number(process.env.RECON_LINES ?? '1000000');
const FILE = process.env.RECON_FILE ?? '/tmp/recon-bench.jsonl';
const DATABASE_URL = process.env.DATABASE_URL ?? '';
const DATE = '2026-11-30';
const AMOUNT = 1250;
const FEE = 7;

const channelOrderNo = (i: number) => `co_bench${String(i).padStart(8, '0')}`;
const peakRssMiB = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

async function seed(): Promise<Record<string, unknown>> {
  const began = performance.now();
  const dataSource = await openDataSource(DATABASE_URL, { poolSize: 2 });
  const settledAt = `${DATE} 12:00:00.000`;
  const ROWS = 2000;
  for (let start = 0; start < LINES; start += ROWS) {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(LINES, start + ROWS); i += 1) {
      rows.push("(?, 0, ?, 'sandbox-wallet', ?, 'CNY', 'SUCCESS', ?, ?, ?)");
      values.push(channelOrderNo(i), `mo_bench${i}`, AMOUNT, `sbx_bench${i}`, settledAt, settledAt);
    }
    await dataSource.query(
      `INSERT INTO channel_order (channel_order_no, pay_order_id, merchant_order_no, channel, amount, currency, status,
                                  provider_trade_no, expire_at, settled_at) VALUES ${rows.join(', ')}`,
      values,
    );
  }
  await dataSource.destroy();
  const seeded = performance.now();
  const out = createWriteStream(FILE);
  for (let i = 0; i < LINES; i += 1) {
    const line = `{"type":"payment","tradeNo":"sbx_bench${i}","channelOrderNo":"${channelOrderNo(i)}","amount":${AMOUNT},"currency":"CNY","fee":${FEE},"at":"${DATE}T12:00:00.000Z"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end(
    `${JSON.stringify({ type: 'summary', date: DATE, lines: LINES, totals: { CNY: { payments: LINES * AMOUNT, refunds: 0, fees: LINES * FEE } } })}\n`,
  );
  await once(out, 'finish');
  return {
    attemptsSeeded: LINES,
    seedSeconds: Math.round((seeded - began) / 100) / 10,
    generateSeconds: Math.round((performance.now() - seeded) / 100) / 10,
    fileMiB: Math.round((statSync(FILE).size / 1048576) * 10) / 10,
  };
}

/** Read and parse only: the ceiling the matching is compared with. */
function raw(): Record<string, unknown> {
  const began = performance.now();
  const bytes = readFileSync(FILE);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let lines = 0;
  for (const { text, lineNo } of rawLines(bytes)) {
    const line = readSandboxLine(text, lineNo);
    if (line !== null && 'kind' in line) lines += 1;
  }
  const seconds = (performance.now() - began) / 1000;
  return {
    lines,
    sha256,
    seconds: Math.round(seconds * 100) / 100,
    linesPerSecond: Math.round(lines / seconds),
    peakRssMiB: peakRssMiB(),
  };
}

async function recon(): Promise<Record<string, unknown>> {
  const dataSource = await openDataSource(DATABASE_URL, { poolSize: 2 });
  const provider = {
    name: 'sandbox',
    channels: [{ name: 'sandbox-wallet' }],
    statements: {
      timeZone: 'UTC',
      async fetchStatement(date: string) {
        const bytes = readFileSync(FILE);
        return sandboxStatement(date, bytes, createHash('sha256').update(bytes).digest('hex'));
      },
    },
  } as unknown as PaymentProvider;
  // Where the time goes: milliseconds waiting on the database, by the statement's first words.
  const databaseMs: Record<string, number> = {};
  const query = dataSource.query.bind(dataSource);
  (dataSource as unknown as { query: unknown }).query = async (sql: string, params?: unknown[]) => {
    const started = performance.now();
    try {
      return await query(sql, params);
    } finally {
      const key = sql.trim().replace(/\s+/g, ' ').slice(0, 40);
      databaseMs[key] = Math.round((databaseMs[key] ?? 0) + performance.now() - started);
    }
  };
  const began = performance.now();
  const report = await runReconciliation(
    { dataSource, provider, log: createLogger('bench-recon', 'warn') },
    DATE,
  );
  const seconds = (performance.now() - began) / 1000;
  await dataSource.destroy();
  return {
    verdict: report?.verdict,
    linesRead: report?.linesRead,
    matched: report?.matched,
    differences: report?.differences.length,
    residual: report?.bridges.map((bridge) => bridge.residual),
    seconds: Math.round(seconds * 100) / 100,
    linesPerSecond: Math.round((report?.linesRead ?? 0) / seconds),
    peakRssMiB: peakRssMiB(),
    databaseMs,
  };
}

async function main(): Promise<void> {
  const result =
    mode === 'seed' ? await seed() : mode === 'raw' ? raw() : mode === 'recon' ? await recon() : undefined;
  if (!result) throw new Error(`mode must be seed, raw or recon, not ${mode}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
