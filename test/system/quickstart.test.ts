import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, sleep } from '@payments/testkit';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/** The bash block of the README between `<!-- quickstart:<name> -->` and the next `<!-- quickstart:end -->`. */
function readmeBlock(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`<!-- quickstart:${name} -->`);
  if (start < 0) throw new Error(`README has no quickstart:${name} block`);
  const end = readme.indexOf('<!-- quickstart:end -->', start);
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(start, end));
  if (!block) throw new Error(`README's quickstart:${name} block has no bash code`);
  return block[1]!;
}

const portInUse = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * The README's first screen, run as written (issue 31.4): `npm run up` in one shell, then the
 * merchant's five minutes in another: a checkout, the page's channel, the sandbox payment, and
 * the order service's record of it.
 */
describe("the README's quick start, as a merchant runs it", () => {
  let up: ChildProcess | undefined;
  let log = '';

  afterAll(async () => {
    if (!up || up.exitCode !== null) return;
    // Ctrl-C, as the README says: the whole group, as a terminal sends it.
    process.kill(-up.pid!, 'SIGINT');
    const exited = new Promise((resolve) => up!.once('exit', resolve));
    if ((await Promise.race([exited, sleep(20_000).then(() => 'late')])) === 'late')
      process.kill(-up.pid!, 'SIGKILL');
  });

  it('takes a payment: checkout, channel, sandbox payment, the order service told', async () => {
    for (const port of [8080, 8070, 8090]) expect([port, await portInUse(port)]).toEqual([port, false]); // the quick start's own ports are free
    up = spawn('bash', ['-euo', 'pipefail', '-c', readmeBlock('start')], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    up.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await eventually(
      'npm run up serving',
      async () => {
        if (up!.exitCode !== null) throw new Error(`npm run up exited ${up!.exitCode}:\n${log.slice(-3000)}`);
        const [gateway, orders] = await Promise.all([
          fetch('http://127.0.0.1:8080/readyz').then(
            (answer) => answer.ok,
            () => false,
          ),
          fetch('http://127.0.0.1:8070/healthz').then(
            (answer) => answer.ok,
            () => false,
          ),
        ]);
        return gateway && orders;
      },
      120_000,
      500,
    );
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', readmeBlock('pay')], {
      cwd: ROOT,
      timeout: 60_000,
    });
    const [opened, ...rest] = stdout.trim().split('\n');
    expect(opened).toMatch(/^open http:\/\/127\.0\.0\.1:8080\/cashier\/[A-Za-z0-9_-]{20,}$/);
    const told = JSON.parse(rest.join('\n')) as { status: string; merchantOrderNo: string };
    expect(told.status).toBe('PAID');
    expect(told.merchantOrderNo).toMatch(/^order-\d+$/);
  }, 240_000);
});
