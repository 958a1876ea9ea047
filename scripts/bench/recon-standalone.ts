/**
 * The reconciliation row alone, without the rest of the bench: a fresh database (migrated), the
 * row's three processes, its JSON on stdout, the database removed. `node -r tsx/cjs
 * scripts/bench/recon-standalone.ts 1000000`.
 */
import { createTestEnv } from '@payments/testkit';
import { reconciliationRow } from './rows/reconciliation';

async function main(): Promise<void> {
  const env = await createTestEnv();
  try {
    const result = await reconciliationRow(env.config.DATABASE_URL, Number(process.argv[2] ?? '1000000'));
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
