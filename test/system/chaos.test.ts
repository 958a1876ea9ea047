import { execFileSync } from 'node:child_process';
import { sleep } from '@payments/common/src/testing';
import { SystemStack } from '../support/system';

/**
 * Whole-system scenarios: the real services as processes, traffic of every kind, failures injected,
 * then CONTRACT 8 checked for every order touched.
 */
describe('chaos: the money invariants hold under failures', () => {
  const expectInvariants = (outcome: Awaited<ReturnType<SystemStack['verify']>>) => {
    expect(outcome.notQuiet).toEqual([]);
    expect(outcome.violations).toEqual([]);
    expect(outcome.dlqs).toEqual({});
  };

  it('SIGKILL each service kind in turn under load, restarting it', async () => {
    const system = new SystemStack();
    await system.start();
    try {
      await system.startAll();
      const load = system.load();
      for (const kind of ['payment-gateway', 'poller', 'notifier', 'refunder'] as const) {
        await sleep(2500);
        await system.restart(kind, 'SIGKILL');
      }
      await sleep(2000);
      const orders = (await load.stop()).map((result) => result.merchantOrderNo);
      expect(orders.length).toBeGreaterThan(20);
      expectInvariants(await system.verify(orders));
    } finally {
      await system.stop();
    }
  });

  it('two instances of every service, with every sandbox fault at once', async () => {
    const system = new SystemStack();
    await system.start();
    try {
      await system.startAll(2);
      await system.stack.setPspFaults({
        dropNotifyRate: 0.3,
        duplicateNotifies: true,
        queryErrorRate: 0.2,
        closeLatencyMs: 500,
      });
      const load = system.load(6);
      await sleep(12_000);
      const results = await load.stop();
      await system.stack.setPspFaults(undefined);
      const orders = results.map((result) => result.merchantOrderNo);
      expect(orders.length).toBeGreaterThan(20);
      // Double clicks still make one attempt each, across two gateways.
      expect(
        results.filter((result) => result.scenario === 'double-click').flatMap((result) => result.errors),
      ).toEqual([]);
      expectInvariants(await system.verify(orders));
    } finally {
      await system.stop();
    }
  });

  it('RabbitMQ restarted under load: services reconnect and the outbox loses nothing', async () => {
    const system = new SystemStack();
    await system.start();
    try {
      await system.startAll();
      const load = system.load();
      await sleep(3000);
      execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore' });
      await sleep(3000);
      execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
      await sleep(5000);
      const orders = (await load.stop()).map((result) => result.merchantOrderNo);
      expectInvariants(await system.verify(orders, 120_000));
    } finally {
      execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
      await system.stop();
    }
  });

  it('Redis restarted under load: applies fail closed with 503, then recover', async () => {
    const system = new SystemStack();
    await system.start();
    try {
      await system.startAll();
      const load = system.load();
      await sleep(2000);
      execFileSync('redis-cli', ['shutdown', 'nosave'], { stdio: 'ignore' });
      await sleep(1000);
      const duringOutage = await fetch(`${system.gatewayUrls[0]}/v1/payments`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk_test_local', 'content-type': 'application/json' },
        body: JSON.stringify({
          merchantOrderNo: `redis-down-${Date.now()}`,
          amount: 100,
          currency: 'CNY',
          channel: 'sandbox-wallet',
          subject: 'x',
        }),
      });
      expect(duringOutage.status).toBe(503);
      startRedis();
      await sleep(4000);
      const orders = (await load.stop()).map((result) => result.merchantOrderNo);
      expectInvariants(await system.verify(orders));
    } finally {
      startRedis();
      await system.stop();
    }
  });
});

/** The machine's Redis, started the way the environment starts it (no-op if it runs). */
function startRedis(): void {
  try {
    execFileSync('redis-cli', ['ping'], { stdio: 'ignore' });
    return;
  } catch {
    execFileSync(
      'sh',
      [
        '-c',
        'mkdir -p /var/lib/redis /var/log/redis; redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 50; i++) {
      try {
        execFileSync('redis-cli', ['ping'], { stdio: 'ignore' });
        return;
      } catch {
        execFileSync('sleep', ['0.1']);
      }
    }
  }
}
