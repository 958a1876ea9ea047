import { createRedis, RedisLock, redisReady, DependencyUnavailableError } from '@payments/platform';
import { createTestEnv, sleep, type TestEnv } from '@payments/testkit';
import Redis from 'ioredis';

describe('Redis lock (real Redis)', () => {
  let env: TestEnv;
  let clients: Redis[];

  beforeAll(async () => {
    env = await createTestEnv();
    clients = [createRedis(env.config.REDIS_URL), createRedis(env.config.REDIS_URL)];
    await Promise.all(clients.map((client) => redisReady(client)));
  });
  afterAll(async () => {
    clients?.forEach((client) => client.disconnect());
    await env?.cleanup();
  });

  it('never lets two holders overlap', async () => {
    const locks = clients.map((client) => new RedisLock(client, env.config.TOPOLOGY_PREFIX));
    let holders = 0;
    let maxHolders = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const outcome = await locks[i % 2]!.withLock(
          'order-1',
          { ttlMs: 5000, waitMs: 10_000, retryEveryMs: 5 },
          async () => {
            holders += 1;
            maxHolders = Math.max(maxHolders, holders);
            await sleep(5);
            holders -= 1;
            done += 1;
          },
        );
        expect(outcome.acquired).toBe(true);
      }),
    );
    expect(done).toBe(40);
    expect(maxHolders).toBe(1);
  });

  it('tells the work whether the lock was busy when first asked for', async () => {
    const lock = new RedisLock(clients[0]!, env.config.TOPOLOGY_PREFIX);
    const options = { ttlMs: 5000, waitMs: 2000, retryEveryMs: 5 };
    const free = await lock.withLock('order-waited', options, async (guard) => guard.waited);
    expect(free).toEqual({ acquired: true, result: false });
    const held = await lock.acquire('order-waited', options);
    setTimeout(() => void held!.release(), 100);
    const busy = await lock.withLock('order-waited', options, async (guard) => guard.waited);
    expect(busy).toEqual({ acquired: true, result: true });
  });

  it('gives up after its wait, and a release by a stale holder frees nothing', async () => {
    const lock = new RedisLock(clients[0]!, env.config.TOPOLOGY_PREFIX);
    const first = await lock.acquire('order-2', { ttlMs: 200, waitMs: 0 });
    expect(first).toBeDefined();
    expect(await lock.acquire('order-2', { ttlMs: 200, waitMs: 50 })).toBeUndefined();
    await sleep(250); // the lease ran out; someone else takes it
    const second = await lock.acquire('order-2', { ttlMs: 5000, waitMs: 0 });
    expect(second).toBeDefined();
    expect(await first!.release()).toBe(false);
    expect(await clients[0]!.get(second!.key)).toBe(second!.token);
    expect(second!.key.startsWith(`${env.config.TOPOLOGY_PREFIX}.`)).toBe(true);
    expect(await second!.release()).toBe(true);
  });

  it('connects again after ioredis gave up (a connection attempt that failed ends the client for good)', async () => {
    const failOnce = (client: Redis) => {
      const connector = (
        client as unknown as { connector: { connect: (...args: unknown[]) => Promise<unknown> } }
      ).connector;
      const connect = connector.connect.bind(connector);
      connector.connect = () => {
        connector.connect = connect;
        return Promise.reject(new Error('Connection is closed.'));
      };
      client.disconnect(true); // the reconnection's attempt fails: ioredis sets status `end`
    };
    const ours = createRedis(env.config.REDIS_URL);
    const plain = new Redis(env.config.REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      await Promise.all([redisReady(ours), redisReady(plain)]);
      ours.on('error', () => undefined);
      plain.on('error', () => undefined);
      failOnce(ours);
      failOnce(plain);
      await sleep(2500);
      expect({ ours: ours.status, plain: plain.status }).toEqual({ ours: 'ready', plain: 'end' });
      expect(await ours.ping()).toBe('PONG');
    } finally {
      ours.disconnect();
      plain.disconnect();
    }
    await sleep(1500);
    expect(ours.status).toBe('end'); // our own disconnect is not undone
  });

  it('fails closed when Redis cannot be reached', async () => {
    const dead = createRedis('redis://127.0.0.1:1/0');
    try {
      const lock = new RedisLock(dead, 'x');
      await expect(lock.acquire('order-3', { ttlMs: 1000, waitMs: 100 })).rejects.toBeInstanceOf(
        DependencyUnavailableError,
      );
    } finally {
      dead.disconnect();
    }
  });

  it('renews its lease while the work runs, past the lease, and tells the work when it was lost', async () => {
    const lock = new RedisLock(clients[0]!, env.config.TOPOLOGY_PREFIX);
    const other = new RedisLock(clients[1]!, env.config.TOPOLOGY_PREFIX);
    const options = { ttlMs: 300, waitMs: 0 };
    const outcome = await lock.withLock('order-4', options, async (guard) => {
      await sleep(900); // three leases long
      const stillOurs = guard.held();
      const taken = await other.acquire('order-4', options);
      return { stillOurs, taken: taken !== undefined };
    });
    expect(outcome).toEqual({ acquired: true, result: { stillOurs: true, taken: false } });

    const lost = await lock.withLock('order-5', options, async (guard) => {
      // Someone deletes and takes the key (as after an expiry): the next renewal finds it gone.
      await clients[1]!.set(`${env.config.TOPOLOGY_PREFIX}.lock:order-5`, 'someone-else');
      await sleep(250);
      return guard.held();
    });
    expect(lost).toEqual({ acquired: true, result: false });
  });
});
