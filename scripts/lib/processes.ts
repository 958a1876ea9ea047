/** Starting the parts of the stack as child processes, with their logs prefixed (for `up` and `demo`). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SANDBOXES } from '../../sandbox/registry';

/** Every provider's sandbox (`sandbox/registry.ts`), the example order service, then the services. */
export const PARTS = [
  ...Object.values(SANDBOXES).map((sandbox) => sandbox.part),
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
 * The V8 heap sizes every part runs with, wherever it starts (start scripts, Dockerfile and
 * compose, up, demo, bench, tests). A young generation of 2 × 8 MiB semi-spaces instead of up to
 * 2 × 16, and an old space limited to 256 MiB: V8 scales how much it lets the heap grow after a
 * full collection by that limit (at most about 1.3× for a limit this small, up to 4× under the
 * default of about 4 GiB on this machine), so a burst of load leaves less unused heap behind.
 * The live heap under the bench's load is about 50 MiB. Measured with `npm run bench`; see the
 * README.
 */
export const NODE_HEAP_OPTIONS = ['--max-semi-space-size=8', '--max-old-space-size=256'] as const;

/**
 * Node's arguments for a part (a directory holding `src/main.ts`), as its start script runs it:
 * the heap sizes, then the part bundled by `scripts/build.mjs` into `dist/main.js` (built once per
 * process; no TypeScript loader).
 */
export function partArgs(partDir: string): string[] {
  if (!built.has(partDir)) {
    execFileSync(process.execPath, [BUILD_SCRIPT, partDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    built.add(partDir);
  }
  return [...NODE_HEAP_OPTIONS, join(partDir, 'dist', 'main.js')];
}

export function startPart(
  part: Part,
  env: NodeJS.ProcessEnv,
  output: ((line: string) => void) | undefined,
): ChildProcess | undefined {
  const dir = join(ROOT, part);
  if (!existsSync(join(dir, 'src', 'main.ts'))) return undefined;
  const name = part.split('/')[1]!;
  const child = spawn(process.execPath, partArgs(dir), {
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
