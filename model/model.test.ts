/**
 * Runs spin on model/payments.pml (issue 30): the model must verify in every configuration, and
 * every known-bad variant must be rejected with a trail, so the checker is shown to bite. A failure
 * prints spin's trail (the interleaving that breaks the property). The checks run as many at a
 * time as the machine has cores (each one pan process, single-threaded), started before the first
 * test; each test awaits its own.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { forEachBounded } from '../scripts/bench/pool';

const execFileAsync = promisify(execFile);

const MODEL = join(__dirname, 'payments.pml');

/** Budgets of the lean configurations: one fault kind at a time keeps the search exhaustive. */
const LEAN = [
  '-DFAULTS=0',
  '-DCALLBACKS=1',
  '-DLOST_POLLS=0',
  '-DOS_DOWN=0',
  '-DLOCK_EXPIRIES=0',
  '-DREFUND_SWEEPS=0',
];

interface Check {
  name: string;
  /** `spin -a` defines: the scenario and its budgets. */
  defines: string[];
  /** Bitstate (supertrace) search with 2^w bits instead of an exhaustive one. */
  bitstate?: number;
}

/** The good model: every one must verify with no errors. */
const GOOD: Check[] = [
  { name: 'one gateway, every fault (exhaustive)', defines: ['-DNO_SECOND'] },
  {
    name: 'a double click: two gateways, one channel (exhaustive)',
    defines: [
      '-DSECOND_CARD',
      '-DFAULTS=1',
      '-DCALLBACKS=1',
      '-DLOST_POLLS=0',
      '-DOS_DOWN=0',
      '-DLOCK_EXPIRIES=0',
      '-DREFUND_SWEEPS=0',
    ],
  },
  { name: 'card and voucher, every fault (bitstate)', defines: [], bitstate: 24 },
  {
    name: 'one gateway and a merchant close, every fault (bitstate)',
    defines: ['-DNO_SECOND', '-DMERCHANT_CLOSE'],
    bitstate: 24,
  },
];

/** Each known-bad variant, in a configuration where spin must find the violation. */
const BAD: (Check & { breaks: string })[] = [
  { name: 'BAD_NO_FENCE', breaks: 'one payment kept', defines: ['-DBAD_NO_FENCE', ...LEAN] },
  {
    name: 'BAD_NOT_FOUND_FINAL',
    breaks: 'no money left',
    defines: [
      '-DBAD_NOT_FOUND_FINAL',
      ...LEAN.filter((d) => !d.startsWith('-DCALLBACKS')),
      '-DCALLBACKS=0',
      '-DCRASHES=0',
    ],
  },
  {
    name: 'BAD_SKIP_REFUND_CHECK',
    breaks: 'the kept payment is never refunded',
    defines: ['-DBAD_SKIP_REFUND_CHECK'],
    bitstate: 23,
  },
  {
    name: 'BAD_REFUND_NO_PER_REQUEST',
    breaks: 'no refund sent twice',
    defines: ['-DBAD_REFUND_NO_PER_REQUEST', ...LEAN],
  },
  {
    name: 'BAD_EVENT_ID_AT_PUBLISH',
    breaks: 'one event id',
    defines: ['-DBAD_EVENT_ID_AT_PUBLISH'],
    bitstate: 23,
  },
  {
    name: 'BAD_MARK_BEFORE_PUBLISH',
    breaks: 'the order service hears of it',
    defines: ['-DBAD_MARK_BEFORE_PUBLISH'],
    bitstate: 23,
  },
];

interface Verdict {
  errors: number;
  output: string;
  trail: string;
}

function haveSpin(): boolean {
  try {
    execFileSync('spin', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function verify(check: Check): Promise<Verdict> {
  const dir = mkdtempSync(join(tmpdir(), 'spin-'));
  try {
    copyFileSync(MODEL, join(dir, 'payments.pml'));
    const run = async (cmd: string, args: string[]) =>
      (await execFileAsync(cmd, args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 })).stdout;
    await run('spin', ['-a', ...check.defines, 'payments.pml']);
    const cflags = check.bitstate ? ['-DBITSTATE'] : ['-DCOLLAPSE', '-DMEMLIM=3000'];
    await run('gcc', ['-O2', '-DSAFETY', ...cflags, '-o', 'pan', 'pan.c']);
    const panArgs = ['-m300000', ...(check.bitstate ? [`-w${check.bitstate}`, '-k2'] : [])];
    let output: string;
    try {
      output = await run('./pan', panArgs);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    const errors = Number(/errors: (\d+)/.exec(output)?.[1] ?? NaN);
    if (/reached -DMEMLIM bound/.test(output))
      throw new Error(`${check.name}: search ran out of memory\n${output}`);
    const trail = existsSync(join(dir, 'payments.pml.trail'))
      ? await run('spin', ['-t', '-c', '-g', ...check.defines, 'payments.pml'])
      : '';
    return { errors, output, trail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every check started, `slots` at a time, in the order given; each one's verdict by its name. */
function verifyAll(checks: readonly Check[], slots: number): Map<string, Promise<Verdict>> {
  const verdicts = new Map<string, Promise<Verdict>>();
  const settlers: { resolve: (verdict: Verdict) => void; reject: (error: unknown) => void }[] = [];
  for (const check of checks) {
    const verdict = new Promise<Verdict>((resolve, reject) => settlers.push({ resolve, reject }));
    // Awaited by its test; until then a failure must not count as unhandled.
    verdict.catch(() => undefined);
    verdicts.set(check.name, verdict);
  }
  void forEachBounded(checks.length, slots, (index) =>
    verify(checks[index]!).then(settlers[index]!.resolve, settlers[index]!.reject),
  );
  return verdicts;
}

const describeIfSpin = haveSpin() || process.env.CI ? describe : describe.skip;

describeIfSpin('the Promela model of one order (spin)', () => {
  let verdicts: Map<string, Promise<Verdict>>;
  beforeAll(() => {
    if (!haveSpin()) throw new Error('spin is not installed: apt-get install -y spin (.ci/run does)');
    verdicts = verifyAll([...GOOD, ...BAD], Math.max(1, availableParallelism()));
  });

  it.each(GOOD)('verifies: $name', async (check) => {
    const verdict = await verdicts.get(check.name)!;
    if (verdict.errors !== 0)
      throw new Error(
        `spin found a violation in "${check.name}":\n${verdict.output}\n--- trail ---\n${verdict.trail}`,
      );
    expect(verdict.output).toMatch(/errors: 0/);
  });

  it.each(BAD)('rejects $name (breaks: $breaks) with a trail', async (check) => {
    const verdict = await verdicts.get(check.name)!;
    if (!(verdict.errors > 0)) throw new Error(`spin did not reject ${check.name}:\n${verdict.output}`);
    expect(verdict.output).toMatch(/assertion violated|invalid end state/);
    expect(verdict.trail).not.toBe('');
  });
});
