import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { signBody } from '@payments/platform';
import { partArgs } from '../../../../scripts/lib/processes';

const SERVICE_DIR = path.resolve(__dirname, '../..');

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, partArgs(SERVICE_DIR), {
    cwd: SERVICE_DIR,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitUntilHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited early with ${child.exitCode}`);
    const healthy = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('not healthy in time');
}

describe('example order service process (src/main.ts)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('listens on EXAMPLE_ORDER_SERVICE_PORT, verifies with ORDER_SERVICE_SECRET and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const { child } = start({
      EXAMPLE_ORDER_SERVICE_PORT: String(port),
      ORDER_SERVICE_SECRET: 'process-secret',
    });
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    await waitUntilHealthy(url, child);

    const raw = JSON.stringify({
      eventId: 'e1',
      type: 'payment.succeeded',
      merchantOrderNo: 'mo-proc',
      payOrderNo: 'po',
      amount: 1,
      currency: 'CNY',
      channel: 'sandbox-wallet',
      channelOrderNo: 'co',
      paidAt: new Date().toISOString(),
    });
    const post = (secret: string) =>
      fetch(`${url}/orders/mo-proc/payment-result`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-payment-signature': signBody(secret, raw) },
        body: raw,
      });
    expect((await post('order_test_secret')).status).toBe(401);
    expect((await post('process-secret')).status).toBe(200);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  it('refuses a bad port with a clear message and a non-zero exit', async () => {
    const { child, output } = start({ EXAMPLE_ORDER_SERVICE_PORT: 'not-a-port' });
    children.push(child);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(output()).toMatch(/EXAMPLE_ORDER_SERVICE_PORT/);
  });
});
