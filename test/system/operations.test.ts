import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { eventually, sleep } from '@payments/testkit';
import { api, applyBody, freePort, orderNo, readQueueThroughManagementApi } from '../support/stack';
import { payctl as runPayctl } from '../support/payctl';
import { SystemStack } from '../support/system';

const ROOT = join(__dirname, '..', '..');

/** What an on-call engineer relies on: graceful stops, dead letters that explain themselves, payctl. */
describe('operations', () => {
  const system = new SystemStack();
  let url: string;

  beforeAll(async () => {
    await system.start();
    await system.spawn('payment-gateway');
    await system.spawn('poller');
    await system.spawn('refunder');
    url = system.gatewayUrls[0]!;
  });
  afterAll(() => system.stop());

  const payctl = (...args: string[]) => runPayctl(system.stack.serviceEnv(), ...args);

  it('SIGTERM to `npm run start -w services/notifier` under load: exits 0 in time, loses nothing, repeats nothing', async () => {
    await system.stack.setOrderServiceFaults({ latencyMs: 150 });
    const port = await freePort();
    const npm = spawn('npm', ['run', 'start', '-w', 'services/notifier'], {
      cwd: ROOT,
      env: { ...process.env, ...system.stack.serviceEnv({ METRICS_PORT: String(port) }) },
      stdio: 'ignore',
    });
    await eventually(
      'notifier ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      30_000,
      100,
    );
    const orders: string[] = [];
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        const no = orderNo('graceful');
        const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
        await system.stack.pay(applied.body.attempt.channelOrderNo);
        orders.push(no);
      }),
    );
    await sleep(300); // deliveries in flight
    const stoppedAt = Date.now();
    npm.kill('SIGTERM');
    const code = await new Promise((resolve) => npm.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);

    await system.stack.setOrderServiceFaults(undefined);
    await system.spawn('notifier');
    for (const no of orders) {
      await eventually(
        `${no} delivered`,
        async () => (await system.stack.merchantOrder(no))?.status === 'PAID',
        20_000,
      );
    }
    await sleep(500);
    for (const no of orders)
      expect(await system.stack.merchantOrder(no)).toMatchObject({ deliveries: 1, distinctEvents: 1 });
  });

  it('a dead letter explains itself in the management UI (read through its HTTP API)', async () => {
    const connection = await amqplib.connect(system.stack.config.AMQP_URL);
    const channel = await connection.createConfirmChannel();
    const merchantOrderNo = orderNo('poison');
    const messageId = randomUUID();
    channel.publish(
      `${system.stack.config.TOPOLOGY_PREFIX}.payments.commands`,
      'payment.apply',
      Buffer.from(
        JSON.stringify({
          merchantOrderNo,
          amount: -5,
          currency: 'CNY',
          channel: 'sandbox-wallet',
          subject: 'x',
        }),
      ),
      { messageId, persistent: true, contentType: 'application/json' },
    );
    await channel.waitForConfirms();
    await connection.close();

    const dlq = `${system.stack.config.TOPOLOGY_PREFIX}.payments.gateway.apply.dlq`;
    const read = async () =>
      (await readQueueThroughManagementApi(dlq, 10)).find(
        (message) => message.properties.message_id === messageId,
      );
    const message = await eventually('dead letter in the management API', read, 15_000, 200);
    expect(message.properties.headers).toMatchObject({
      'x-dead-letter-reason': 'invalid',
      'x-original-queue': `${system.stack.config.TOPOLOGY_PREFIX}.payments.gateway.apply`,
      'x-original-routing-key': 'payment.apply',
      'x-attempts': 1,
      'x-merchant-order-no': merchantOrderNo,
    });
    expect(String(message.properties.headers['x-last-error'])).toMatch(/amount/);
  });

  it('payctl: lists and peeks dlqs with or without the prefix, replays them, and refuses unknown names', async () => {
    const list = await payctl('dlq', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(`1\\s+${system.stack.config.TOPOLOGY_PREFIX}\\.payments\\.gateway\\.apply\\.dlq`),
    );
    const peek = await payctl('dlq', 'peek', 'payments.gateway.apply.dlq', '--limit', '1');
    expect(peek.code).toBe(0);
    expect(peek.stdout).toMatch(/"x-dead-letter-reason": "invalid"/);

    const unknown = await payctl('dlq', 'replay', 'no.such.queue');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown dlq "no.such.queue"/);
    const badLimit = await payctl('dlq', 'replay', 'payments.gateway.apply.dlq', '--limit', 'lots');
    expect(badLimit.code).not.toBe(0);

    const replay = await payctl('dlq', 'replay', 'payments.gateway.apply.dlq', '--limit', '1');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/replayed 1 message/);
    // Still invalid, so the gateway dead-letters it again: back in the dlq, and readable.
    await eventually(
      'dead-lettered again',
      async () => /1\s+\S+gateway\.apply\.dlq/.test((await payctl('dlq', 'list')).stdout),
      15_000,
      300,
    );
  });

  it('payctl: the timeline of a payment, refunds, the outbox, and clear errors', async () => {
    const no = orderNo('timeline');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    await system.stack.pay(applied.body.attempt.channelOrderNo);
    await eventually(
      'PAID',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.status === 'PAID',
    );
    const timeline = await payctl('payment', no);
    expect(timeline.code).toBe(0);
    const lines = timeline.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/applied/);
    expect(timeline.stdout).toMatch(/attempt created/);
    expect(timeline.stdout).toMatch(/callback .* → PAID/);
    expect(timeline.stdout).toMatch(/PAID\s+by co_/);
    const times = lines.map((line) => line.split(' ')[0]!);
    expect([...times].sort()).toEqual(times);

    const missing = await payctl('payment', 'no-such-order');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no payment for order no-such-order/);
    const anonymous = await payctl('refund', 'approve', 'rf_nope');
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/required option '--by <name>'/);
    const approve = await payctl('refund', 'approve', 'rf_nope', '--by', 'ops-alice');
    expect(approve.code).not.toBe(0);
    expect(approve.stderr).toMatch(/no refund rf_nope/);
    const pending = await payctl('refund', 'list', '--pending');
    expect(pending.code).toBe(0);
    expect(JSON.parse(pending.stdout)).toEqual([]);
    const outbox = await payctl('outbox', 'status');
    expect(outbox.code).toBe(0);
    expect(JSON.parse(outbox.stdout)).toHaveProperty('unpublished');
    const nonsense = await payctl('nonsense');
    expect(nonsense.code).not.toBe(0);
  });
});
