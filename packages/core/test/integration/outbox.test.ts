import amqplib from 'amqplib';
import { Broker, createLogger, topologyFor, type DataSource } from '@payments/platform';
import {
  appendToOutbox,
  countUnpublished,
  newEvent,
  openDataSource,
  OutboxRelay,
  rememberEvent,
  WRITER_PUBLISH_HOLD_MS,
} from '@payments/core';
import { createTestEnv, eventually, type TestEnv } from '@payments/testkit';

const log = createLogger('test', 'silent');

describe('transactional outbox (real MariaDB and RabbitMQ)', () => {
  let env: TestEnv;
  let dataSource: DataSource;
  let brokers: Broker[];

  beforeAll(async () => {
    env = await createTestEnv();
    dataSource = await openDataSource(env.config.DATABASE_URL);
    brokers = await Promise.all(
      [1, 2].map(() => Broker.connect(env.config.AMQP_URL, topologyFor(env.config), log)),
    );
  });
  afterAll(async () => {
    await Promise.all(brokers?.map((broker) => broker.close()) ?? []);
    await dataSource?.destroy();
    await env?.cleanup();
  });

  /** A queue of our own bound to the event, like any subscriber: the message ids it receives. */
  async function subscribe(routingKey: string) {
    const connection = await amqplib.connect(env.config.AMQP_URL);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, brokers[0]!.topology.exchange('events'), routingKey);
    const received: string[] = [];
    await channel.consume(
      queue,
      (message) => message && received.push(message.properties.messageId as string),
      { noAck: true },
    );
    return { received, close: () => connection.close() };
  }

  it('publishes each row exactly once with two relays racing', async () => {
    const total = 600;
    const events = Array.from({ length: total }, (_, i) =>
      newEvent('payment.closed', { payOrderNo: `po_${i}`, merchantOrderNo: `mo_${i}`, reason: 'EXPIRED' }),
    );
    await dataSource.transaction(async (manager) => appendToOutbox(manager, events));
    expect(await countUnpublished(dataSource)).toBe(total);

    const { received, close } = await subscribe('payment.closed');

    const relays = brokers.map((broker) => new OutboxRelay(dataSource, broker, log, { batchSize: 50 }));
    const sent = await Promise.all(relays.map((relay) => relay.drain()));
    expect(sent[0]! + sent[1]!).toBe(total);
    expect(sent[0]).toBeGreaterThan(0);
    expect(sent[1]).toBeGreaterThan(0);
    expect(await countUnpublished(dataSource)).toBe(0);

    await eventually('all events received', async () => received.length >= total);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(total);
    expect(new Set(received).size).toBe(total);
    expect(new Set(received)).toEqual(new Set(events.map((event) => event.eventId)));
    await close();
  });

  it('writes nothing when the transaction rolls back', async () => {
    const event = newEvent('payment.closed', {
      payOrderNo: 'po_rb',
      merchantOrderNo: 'mo_rb',
      reason: 'CANCELLED',
    });
    await expect(
      dataSource.transaction(async (manager) => {
        await appendToOutbox(manager, [event]);
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    const rows = await dataSource.query('SELECT COUNT(*) AS n FROM outbox WHERE event_id = ?', [
      event.eventId,
    ]);
    expect(Number(rows[0].n)).toBe(0);
  });

  it('keeps rows unsent while the broker refuses them, and sends them later', async () => {
    const event = newEvent('payment.closed', {
      payOrderNo: 'po_later',
      merchantOrderNo: 'mo_later',
      reason: 'EXPIRED',
    });
    await dataSource.transaction(async (manager) => appendToOutbox(manager, [event]));
    const closed = await Broker.connect(env.config.AMQP_URL, topologyFor(env.config), log);
    await closed.close();
    const failing = new OutboxRelay(dataSource, closed, log, { publishTimeoutMs: 300 });
    await failing.drain();
    expect(await countUnpublished(dataSource)).toBe(1);
    await new OutboxRelay(dataSource, brokers[0]!, log).drain();
    expect(await countUnpublished(dataSource)).toBe(0);
  });

  /** `count` payment.closed events committed for their writer to publish (the fast path). */
  const heldForTheirWriter = async (tag: string, count: number) => {
    const events = Array.from({ length: count }, (_, i) =>
      newEvent('payment.closed', {
        payOrderNo: `po_${tag}_${i}`,
        merchantOrderNo: `mo_${tag}_${i}`,
        reason: 'EXPIRED',
      }),
    );
    await dataSource.transaction(async (manager) =>
      appendToOutbox(manager, events, { publishAfterCommit: true }),
    );
    return events;
  };

  it('publishes events its writer hands over after commit at once; claiming relays leave them alone', async () => {
    const events = await heldForTheirWriter('fast', 20);
    const { received, close } = await subscribe('payment.closed');

    // Held for their writer: a claiming relay takes none of them.
    expect(await new OutboxRelay(dataSource, brokers[1]!, log).drain()).toBe(0);
    const writerRelay = new OutboxRelay(dataSource, brokers[0]!, log);
    writerRelay.publishCommitted(events);
    await writerRelay.stop(); // waits for the fast-path publishes and their marks
    expect(await countUnpublished(dataSource)).toBe(0);
    await eventually('all events received', async () => received.length >= events.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.sort()).toEqual(events.map((event) => event.eventId).sort());
    await close();
  });

  it('marks fast-path events published within its linger sent in one statement', async () => {
    const events = await heldForTheirWriter('mark', 5);
    // The statements the relay sends on the data source's pool (mysql2's, beneath TypeORM).
    const pool = (dataSource.driver as unknown as { pool: { query: (...args: unknown[]) => unknown } }).pool;
    const query = pool.query.bind(pool);
    let marks = 0;
    pool.query = (...args: unknown[]) => {
      if (String(args[0]).startsWith('UPDATE outbox SET sent_at')) marks += 1;
      return query(...args);
    };
    try {
      const writerRelay = new OutboxRelay(dataSource, brokers[0]!, log, { markLingerMs: 300 });
      // One event after another, as payments settle one by one, each published at once.
      for (const event of events) {
        writerRelay.publishCommitted([event]);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      await writerRelay.stop();
    } finally {
      pool.query = query;
    }
    expect(marks).toBe(1);
    expect(await countUnpublished(dataSource)).toBe(0);
  });

  it('polls with one plain read while nothing is due, and claims and publishes once a row is', async () => {
    // A data source of its own, every statement it sends recorded (mysql2's pool, beneath TypeORM).
    const own = await openDataSource(env.config.DATABASE_URL, { poolSize: 2 });
    const pool = (
      own.driver as unknown as {
        pool: {
          query: (...args: unknown[]) => unknown;
          getConnection: (callback: (error: unknown, connection: unknown) => void) => void;
        };
      }
    ).pool;
    const statements: string[] = [];
    const recorded = <F extends (...args: unknown[]) => unknown>(send: F) =>
      ((...args: unknown[]) => {
        const sql = args[0] as string | { sql: string };
        statements.push(typeof sql === 'string' ? sql : sql.sql);
        return send(...args);
      }) as F;
    pool.query = recorded(pool.query.bind(pool));
    const getConnection = pool.getConnection.bind(pool);
    const wrapped = new WeakSet<object>();
    pool.getConnection = (callback) =>
      getConnection((error, connection) => {
        const c = connection as { query: (...args: unknown[]) => unknown } | undefined;
        if (c && !wrapped.has(c)) {
          wrapped.add(c);
          c.query = recorded(c.query.bind(c));
        }
        callback(error, connection);
      });
    const relay = new OutboxRelay(own, brokers[0]!, log, { pollIntervalMs: 50 });
    try {
      expect(await countUnpublished(dataSource)).toBe(0);
      relay.start();
      await new Promise((resolve) => setTimeout(resolve, 600));
      const idle = [...statements];
      expect(idle.length).toBeGreaterThanOrEqual(5);
      expect(idle.filter((sql) => !/^SELECT 1 FROM outbox WHERE sent_at IS NULL/.test(sql))).toEqual([]);

      const { received, close } = await subscribe('payment.closed');
      const event = newEvent('payment.closed', {
        payOrderNo: 'po_poll',
        merchantOrderNo: 'mo_poll',
        reason: 'EXPIRED',
      });
      await dataSource.transaction(async (manager) => appendToOutbox(manager, [event]));
      await eventually('the due row published by the poll', async () => received.includes(event.eventId));
      await eventually('and marked sent', async () => (await countUnpublished(dataSource)) === 0);
      expect(statements.some((sql) => /FOR UPDATE SKIP LOCKED/.test(sql))).toBe(true);
      await close();
    } finally {
      await relay.stop();
      await own.destroy();
    }
  });

  it('sends a held event its writer could not publish once the hold lapses', async () => {
    const event = newEvent('payment.closed', {
      payOrderNo: 'po_held',
      merchantOrderNo: 'mo_held',
      reason: 'EXPIRED',
    });
    await dataSource.transaction(async (manager) =>
      appendToOutbox(manager, [event], { publishAfterCommit: true }),
    );
    const closed = await Broker.connect(env.config.AMQP_URL, topologyFor(env.config), log);
    await closed.close();
    const writerRelay = new OutboxRelay(dataSource, closed, log, { publishTimeoutMs: 300 });
    writerRelay.publishCommitted([event]); // the broker is gone: nothing published, nothing lost
    await writerRelay.stop();
    expect(await countUnpublished(dataSource)).toBe(1);
    const backstop = new OutboxRelay(dataSource, brokers[0]!, log);
    expect(await backstop.drain()).toBe(0); // still held
    await new Promise((resolve) => setTimeout(resolve, WRITER_PUBLISH_HOLD_MS + 200));
    expect(await backstop.drain()).toBe(1);
    expect(await countUnpublished(dataSource)).toBe(0);
  });

  it('remembers a handled event once per consumer', async () => {
    await dataSource.transaction(async (manager) => {
      expect(await rememberEvent(manager, 'notifier', 'evt-x')).toBe(true);
      expect(await rememberEvent(manager, 'notifier', 'evt-x')).toBe(false);
      expect(await rememberEvent(manager, 'refunder', 'evt-x')).toBe(true);
    });
  });
});
