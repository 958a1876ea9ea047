import amqplib from 'amqplib';
import { Broker, createLogger, topologyFor, UnroutableError } from '@payments/platform';
import { createTestEnv, eventually, type TestEnv } from '@payments/testkit';

const log = createLogger('test', 'silent');

describe('broker topology and publishing (real RabbitMQ)', () => {
  let env: TestEnv;
  let broker: Broker;

  beforeAll(async () => {
    env = await createTestEnv();
    broker = await Broker.connect(env.config.AMQP_URL, topologyFor(env.config), log);
  });
  afterAll(async () => {
    await broker?.close();
    await env?.cleanup();
  });

  it('declares the topology a second time without error, and every work queue has its dlq', async () => {
    const again = await Broker.connect(env.config.AMQP_URL, topologyFor(env.config), log);
    await again.close();
    const connection = await amqplib.connect(env.config.AMQP_URL);
    const channel = await connection.createChannel();
    try {
      const topology = topologyFor(env.config);
      for (const name of topology.workQueueNames()) {
        await expect(channel.checkQueue(name)).resolves.toMatchObject({ queue: name });
        await expect(channel.checkQueue(`${name}.dlq`)).resolves.toMatchObject({ queue: `${name}.dlq` });
      }
      for (const ms of topology.tierDurations) await channel.checkQueue(topology.tierQueue(ms));
    } finally {
      await connection.close();
    }
  });

  it('rejects a confirmed publish that no queue takes', async () => {
    const commands = broker.topology.exchange('commands');
    await expect(broker.publish(commands, 'payment.nothing-listens', { x: 1 })).rejects.toBeInstanceOf(
      UnroutableError,
    );
    // And a routable one on the same channel still succeeds.
    await expect(broker.publish(commands, 'payment.apply', { x: 1 })).resolves.toBeUndefined();
  });

  it('keeps an event no one subscribed to in payments.unrouted, without an error', async () => {
    const events = broker.topology.exchange('events');
    await broker.publish(
      events,
      'something.nobody.wants',
      { eventId: 'e-unrouted' },
      { messageId: 'e-unrouted' },
    );
    const connection = await amqplib.connect(env.config.AMQP_URL);
    const channel = await connection.createChannel();
    try {
      const message = await eventually('unrouted message', async () =>
        channel.get(broker.topology.named('payments.unrouted'), { noAck: true }),
      );
      expect(message.properties.messageId).toBe('e-unrouted');
    } finally {
      await connection.close();
    }
  });

  it('parks a delayed message in its tier, then returns it to the work queue', async () => {
    const queue = broker.topology.queue('pollerAttempts');
    const started = Date.now();
    await broker.publishDelayed(queue, 300, { hello: 'later' }, { messageId: 'delayed-1' });
    const connection = await amqplib.connect(env.config.AMQP_URL);
    const channel = await connection.createChannel();
    try {
      const message = await eventually(
        'delayed message back',
        async () => channel.get(queue, { noAck: true }),
        5000,
        20,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect(JSON.parse(message.content.toString())).toEqual({ hello: 'later' });
      expect(message.properties.messageId).toBe('delayed-1');
    } finally {
      await connection.close();
    }
    await expect(broker.publishDelayed(queue, 1234, {})).rejects.toThrow(/no delay tier/);
  });
});
