import amqplib from 'amqplib';
import { z } from 'zod';
import {
  Broker,
  Consumer,
  createLogger,
  HEADERS,
  InvalidMessageError,
  TransientError,
  topologyFor,
} from '@payments/platform';
import { createTestEnv, eventually, sleep, type TestEnv } from '@payments/testkit';

const log = createLogger('test', 'silent');
const schema = z.object({ n: z.number() });

describe('consumer wrapper (real RabbitMQ)', () => {
  let env: TestEnv;
  let broker: Broker;
  let queue: string;
  let inspect: amqplib.ChannelModel;
  let channel: amqplib.Channel;

  beforeAll(async () => {
    env = await createTestEnv();
    broker = await Broker.connect(env.config.AMQP_URL, topologyFor(env.config), log);
    queue = broker.topology.queue('pollerAttempts');
    inspect = await amqplib.connect(env.config.AMQP_URL);
    channel = await inspect.createChannel();
  });
  afterAll(async () => {
    await inspect?.close();
    await broker?.close();
    await env?.cleanup();
  });

  const start = async (handle: (body: { n: number }, retryCount: number) => Promise<void>) => {
    const consumer = new Consumer(
      broker,
      {
        queue,
        parse: (body) => schema.parse(body),
        handle: async ({ body, retryCount }) => handle(body, retryCount),
        retrySchedule: env.config.RETRY_SCHEDULE,
        describe: () => ({ eventId: 'evt-1', merchantOrderNo: 'mo-1' }),
      },
      log,
    );
    await consumer.start();
    return consumer;
  };

  it('dead-letters invalid content at once, with readable headers', async () => {
    const handled: number[] = [];
    const consumer = await start(async (body) => {
      handled.push(body.n);
    });
    try {
      await broker.sendToQueue(queue, { n: 'not a number' }, { messageId: 'bad-1' });
      const dead = await eventually('dlq message', async () => channel.get(`${queue}.dlq`, { noAck: true }));
      expect(dead.properties.messageId).toBe('bad-1');
      const headers = dead.properties.headers!;
      expect(headers[HEADERS.reason]).toBe('invalid');
      expect(String(headers[HEADERS.lastError])).toMatch(/invalid message/);
      expect(headers[HEADERS.originalQueue]).toBe(queue);
      expect(headers[HEADERS.attempts]).toBe(1);
      expect(handled).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it('dead-letters on InvalidMessageError thrown by the handler', async () => {
    const consumer = await start(async () => {
      throw new InvalidMessageError('amount does not match');
    });
    try {
      await broker.sendToQueue(queue, { n: 1 }, { messageId: 'bad-2' });
      const dead = await eventually('dlq message', async () => channel.get(`${queue}.dlq`, { noAck: true }));
      expect(dead.properties.headers![HEADERS.lastError]).toBe('amount does not match');
      expect(dead.properties.headers![HEADERS.eventId]).toBe('evt-1');
      expect(dead.properties.headers![HEADERS.merchantOrderNo]).toBe('mo-1');
    } finally {
      await consumer.stop();
    }
  });

  it('brings a TransientError back after its delay tier, then succeeds', async () => {
    const seen: { retryCount: number; at: number }[] = [];
    const consumer = await start(async (_body, retryCount) => {
      seen.push({ retryCount, at: Date.now() });
      if (retryCount === 0) throw new TransientError('provider busy');
    });
    try {
      await broker.sendToQueue(queue, { n: 2 }, { messageId: 'transient-1' });
      await eventually('second delivery', async () => seen.length >= 2);
      expect(seen.map((entry) => entry.retryCount)).toEqual([0, 1]);
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(env.config.RETRY_SCHEDULE[0]! - 20);
      await sleep(300);
      expect(seen).toHaveLength(2);
    } finally {
      await consumer.stop();
    }
  });

  it('dead-letters when the retry schedule is spent', async () => {
    let calls = 0;
    const consumer = await start(async () => {
      calls += 1;
      throw new Error('still down');
    });
    try {
      await broker.sendToQueue(queue, { n: 3 }, { messageId: 'spent-1' });
      const dead = await eventually(
        'dlq message',
        async () => channel.get(`${queue}.dlq`, { noAck: true }),
        10_000,
      );
      expect(calls).toBe(env.config.RETRY_SCHEDULE.length + 1);
      expect(dead.properties.headers![HEADERS.reason]).toBe('retries-exhausted');
      expect(dead.properties.headers![HEADERS.attempts]).toBe(env.config.RETRY_SCHEDULE.length + 1);
      expect(dead.properties.headers!['x-death']).toBeUndefined();
    } finally {
      await consumer.stop();
    }
  });

  it('redelivers a message whose consumer crashed before acking', async () => {
    // A raw consumer takes the message and its connection dies without an ack.
    const crashing = await amqplib.connect(env.config.AMQP_URL);
    const crashChannel = await crashing.createChannel();
    await crashChannel.prefetch(1);
    const taken = new Promise<void>((resolve) => {
      void crashChannel.consume(queue, () => resolve(), { noAck: false });
    });
    await broker.sendToQueue(queue, { n: 4 }, { messageId: 'crash-1' });
    await taken;
    await crashing.close();

    const handled: number[] = [];
    const consumer = await start(async (body) => {
      handled.push(body.n);
    });
    try {
      await eventually('redelivery', async () => handled.includes(4));
    } finally {
      await consumer.stop();
    }
  });
});
