/** Starting the parts of the stack as child processes, with their logs prefixed (for `up` and `demo`). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const PARTS = [
  'sandbox/psp',
  'sandbox/order-service',
  'services/payment-gateway',
  'services/poller',
  'services/notifier',
  'services/refunder',
] as const;
export type Part = (typeof PARTS)[number];

const ROOT = join(__dirname, '..', '..');
const BUILD_SCRIPT = join(ROOT, 'scripts', 'build.mjs');
const built = new Set<string>();

/**
 * The script node runs for a part (a directory holding `src/main.ts`), as its start script runs
 * it: bundled by `scripts/build.mjs` into `dist/main.js` (once per process), no TypeScript loader.
 */
export function partEntry(partDir: string): string {
  if (!built.has(partDir)) {
    execFileSync(process.execPath, [BUILD_SCRIPT, partDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    built.add(partDir);
  }
  return join(partDir, 'dist', 'main.js');
}

export function startPart(
  part: Part,
  env: NodeJS.ProcessEnv,
  output: ((line: string) => void) | undefined,
): ChildProcess | undefined {
  const dir = join(ROOT, part);
  if (!existsSync(join(dir, 'src', 'main.ts'))) return undefined;
  const name = part.split('/')[1]!;
  const child = spawn(process.execPath, [partEntry(dir)], {
    cwd: dir,
    env,
    stdio: ['ignore', output ? 'pipe' : 'ignore', output ? 'pipe' : 'ignore'],
  });
  if (output) {
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) output(`${name.padEnd(16)}| ${line}`);
      });
    }
  }
  return child;
}

export async function stopAll(children: ChildProcess[], signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve(null);
          child.once('exit', resolve);
          child.kill(signal);
        }),
    ),
  );
}

export async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

export async function waitFor(url: string, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 5; i++) {
    if (await answers(url)) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
