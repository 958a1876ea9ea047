/**
 * The child of statement-memory.test.ts: fetches the sandbox statement served at argv[2] (a
 * statement far larger than its memory budget), reads its every line and its raw bytes as the run
 * does (the first pass, the store), then prints its peak RSS before and after, and where its spool was.
 */
import { SandboxStatements } from '../../src/sandbox/statement';

async function main(): Promise<void> {
  const before = process.resourceUsage().maxRSS / 1024;
  const statement = await new SandboxStatements(process.argv[2]!, 'secret', 30_000).fetchStatement(
    '2026-11-30',
  );
  let lines = 0;
  for await (const line of statement.lines()) if (line.amount >= 0) lines += 1;
  let bytes = 0;
  for await (const chunk of statement.raw.open()) bytes += chunk.length;
  const spool = statement.raw.path;
  await statement.dispose();
  const peak = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({ before, peak, lines, bytes, spool, summary: statement.summary })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
