/**
 * The reconciliation row alone, without the rest of the bench: a fresh database (migrated), the
 * row's processes, its JSON on stdout, the database removed.
 * `node -r tsx/cjs scripts/bench/recon-standalone.ts 1000000 [sandbox,alipay,wechatpay,stripe]`
 * (the formats: all four unless named).
 */
import { createTestEnv } from '@payments/testkit';
import { STATEMENT_PROVIDERS, type StatementProvider } from '../lib/statements';
import { reconciliationRow } from './rows/reconciliation';

async function main(): Promise<void> {
  const env = await createTestEnv();
  try {
    const formats = process.argv[3]
      ? (process.argv[3].split(',') as StatementProvider[])
      : STATEMENT_PROVIDERS;
    const unknown = formats.filter((format) => !STATEMENT_PROVIDERS.includes(format));
    if (unknown.length > 0) throw new Error(`no statement format ${unknown.join(', ')}`);
    const result = await reconciliationRow(
      env.config.DATABASE_URL,
      Number(process.argv[2] ?? '1000000'),
      formats,
    );
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await env.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
