/**
 * The reconciliation row's own process (issue 29.4), so its peak RSS is its own: one of
 * - `seed`: RECON_LINES attempts of ours SUCCESS in the database (`co_bench_<i>`, the amounts the
 *   statement generator writes), once for every format;
 * - `write <format>`: the statement of those attempts in the provider's format (scripts/lib/statements.ts) at RECON_FILE;
 * - `reset`: the attempts never reconciled again and no run, statement or difference left, so each
 *   format's run starts from the same state;
 * - `raw <format>`: the file read and parsed by the provider's reader (every line a StatementLine), no matching;
 * - `recon <format>`: the file reconciled by the engine (runReconciliation) as that provider's
 *   fetch would give it: spooled while hashed, checked by the provider (SHA-1 and summary, CRC-32
 *   and 合计, summary line), its summary checked, kept, every line matched in the database.
 * Prints one JSON object on stdout.
 */
import { performance } from 'node:perf_hooks';
import { statSync } from 'node:fs';
import { createLogger } from '@payments/platform';
import { openDataSource, runReconciliation, type PaymentProvider } from '@payments/core';
import { benchAmount, STATEMENT_PROVIDERS, writeStatement, type StatementProvider } from '../lib/statements';
import { readStatement, statementLines } from '../lib/read-statement';

const [mode, format] = process.argv.slice(2) as [string, StatementProvider | undefined];
const LINES = Number(process.env.RECON_LINES ?? '1000000');
const FILE = process.env.RECON_FILE ?? '/tmp/recon-bench.statement';
const DATABASE_URL = process.env.DATABASE_URL ?? '';
const DATE = '2026-11-30';
/** The channel every bench provider names, so each format's run looks at the same attempts. */
const CHANNEL = 'bench-wallet';

const peakRssMiB = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
const rounded = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

async function seed(): Promise<Record<string, unknown>> {
  const began = performance.now();
  const dataSource = await openDataSource(DATABASE_URL, { poolSize: 2 });
  // Settled within the day in UTC and in China time alike (the providers' zones).
  const settledAt = `${DATE} 04:00:00.000`;
  const ROWS = 2000;
  for (let start = 0; start < LINES; start += ROWS) {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(LINES, start + ROWS); i += 1) {
      rows.push("(?, 0, ?, ?, ?, 'CNY', 'SUCCESS', ?, ?, ?)");
      values.push(
        `co_bench_${i}`,
        `mo_bench_${i}`,
        CHANNEL,
        benchAmount(i),
        `pt_bench_${i}`,
        settledAt,
        settledAt,
      );
    }
    await dataSource.query(
      `INSERT INTO channel_order (channel_order_no, pay_order_id, merchant_order_no, channel, amount, currency, status,
                                  provider_trade_no, expire_at, settled_at) VALUES ${rows.join(', ')}`,
      values,
    );
  }
  await dataSource.destroy();
  return { attemptsSeeded: LINES, seedSeconds: rounded((performance.now() - began) / 1000, 1) };
}

async function write(provider: StatementProvider): Promise<Record<string, unknown>> {
  const began = performance.now();
  await writeStatement(provider, LINES, FILE, { date: DATE, currency: 'CNY' });
  return {
    generateSeconds: rounded((performance.now() - began) / 1000, 1),
    fileMiB: rounded(statSync(FILE).size / 1048576, 1),
  };
}

async function reset(): Promise<Record<string, unknown>> {
  const began = performance.now();
  const dataSource = await openDataSource(DATABASE_URL, { poolSize: 1 });
  for (const table of [
    'recon_attempt_match',
    'recon_run',
    'recon_difference',
    'recon_statement_chunk',
    'recon_statement',
  ])
    await dataSource.query(`DELETE FROM ${table}`);
  await dataSource.destroy();
  return { resetSeconds: rounded((performance.now() - began) / 1000, 1) };
}

/** Read and parse only: the ceiling the matching is compared with. */
async function raw(): Promise<Record<string, unknown>> {
  const began = performance.now();
  let lines = 0;
  for await (const line of statementLines(FILE)) if (line.amount >= 0) lines += 1;
  const seconds = (performance.now() - began) / 1000;
  return {
    lines,
    seconds: rounded(seconds),
    linesPerSecond: Math.round(lines / seconds),
    peakRssMiB: peakRssMiB(),
  };
}

async function recon(provider: StatementProvider): Promise<Record<string, unknown>> {
  const dataSource = await openDataSource(DATABASE_URL, { poolSize: 2 });
  const bench = {
    name: provider,
    channels: [{ name: CHANNEL }],
    statements: {
      timeZone: provider === 'alipay' || provider === 'wechatpay' ? 'Asia/Shanghai' : 'UTC',
      fetchStatement: () => readStatement(FILE),
    },
  } as unknown as PaymentProvider;
  // Where the time goes: milliseconds waiting on the database, by the statement's first words
  // (the raw statement is kept while the lines are matched: these overlap).
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
  // What the peak is made of: the largest heap and off-heap (Buffers) seen, sampled every 50 ms.
  const largest = { rssMiB: 0, heapTotalMiB: 0, heapUsedMiB: 0, externalMiB: 0 };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    for (const [key, bytes] of [
      ['rssMiB', usage.rss],
      ['heapTotalMiB', usage.heapTotal],
      ['heapUsedMiB', usage.heapUsed],
      ['externalMiB', usage.external],
    ] as const)
      largest[key] = Math.max(largest[key], rounded(bytes / 1048576, 1));
  }, 50);
  const began = performance.now();
  const report = await runReconciliation(
    { dataSource, provider: bench, log: createLogger('bench-recon', 'warn') },
    DATE,
  );
  const seconds = (performance.now() - began) / 1000;
  clearInterval(sampler);
  await dataSource.destroy();
  return {
    verdict: report?.verdict,
    error: report?.error,
    linesRead: report?.linesRead,
    matched: report?.matched,
    differences: report?.differences.length,
    residual: report?.bridges.map((bridge) => bridge.residual),
    seconds: rounded(seconds),
    linesPerSecond: Math.round((report?.linesRead ?? 0) / seconds),
    peakRssMiB: peakRssMiB(),
    largest,
    databaseMs,
  };
}

async function main(): Promise<void> {
  const needsFormat = mode === 'write' || mode === 'raw' || mode === 'recon';
  if (needsFormat && !STATEMENT_PROVIDERS.includes(format!))
    throw new Error(`${mode} needs a format: ${STATEMENT_PROVIDERS.join(', ')}`);
  const result =
    mode === 'seed'
      ? await seed()
      : mode === 'write'
        ? await write(format!)
        : mode === 'reset'
          ? await reset()
          : mode === 'raw'
            ? await raw()
            : mode === 'recon'
              ? await recon(format!)
              : undefined;
  if (!result) throw new Error(`mode must be seed, write, reset, raw or recon, not ${mode}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
