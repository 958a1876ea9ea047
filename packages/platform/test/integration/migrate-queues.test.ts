import amqplib from 'amqplib';
import { Broker, createLogger, migrateQueues, queueDrift, Topology, topologyFor } from '@payments/platform';
import { createTestEnv, type TestEnv } from '@payments/testkit';

const log = createLogger('test', 'silent');

/** The delay tiers as wave 1 declared them: classic queues (before CONTRACT 12). */
async function declareClassicTiers(amqpUrl: string, topology: Topology): Promise<void> {
  const connection = await amqplib.connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(topology.exchange('delay'), 'topic', { durable: true });
  await channel.assertExchange(topology.exchange('retry'), 'topic', { durable: true });
  for (const delayMs of topology.tierDurations) {
    const name = topology.tierQueue(delayMs);
    await channel.assertQueue(name, {
      durable: true,
      arguments: { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': topology.exchange('retry') },
    });
    await channel.bindQueue(name, topology.exchange('delay'), `${topology.tierName(delayMs)}.#`);
  }
  await connection.close();
}

describe('queues declared otherwise on the broker, and their migration (real RabbitMQ)', () => {
  let env: TestEnv;
  // A long tier, so the parked message is still waiting when the migration moves it.
  const longTier = 600_000;

  beforeAll(async () => {
    env = await createTestEnv({ RETRY_SCHEDULE: '600s' });
  });
  afterAll(async () => env?.cleanup());

  it('starts on a broker whose tiers are classic (drift logged, nothing refused), and the migration makes them quorum without losing the waiting message', async () => {
    const topology = topologyFor(env.config);
    await declareClassicTiers(env.config.AMQP_URL, topology);

    const broker = await Broker.connect(env.config.AMQP_URL, topology, log);
    try {
      const tiers = topology.tierDurations.map((ms) => topology.tierQueue(ms)).sort();
      expect(broker.drift.map((drift) => drift.queue).sort()).toEqual(tiers);
      expect(broker.drift[0]!.reason).toMatch(/inequivalent arg/);
      // The old tier still works: a message parked in it is kept.
      await broker.publishDelayed(
        topology.queue('pollerAttempts'),
        longTier,
        { parked: 1 },
        { messageId: 'm-1' },
      );
    } finally {
      await broker.close();
    }

    const migrations = await migrateQueues(env.config.AMQP_URL, topology);
    expect(migrations.map((migration) => migration.queue).sort()).toEqual(
      topology.tierDurations.map((ms) => topology.tierQueue(ms)).sort(),
    );
    expect(migrations.find((migration) => migration.queue === topology.tierQueue(longTier))?.moved).toBe(1);
    expect(await queueDrift(env.config.AMQP_URL, topology)).toEqual([]);

    // The message went back through the delay exchange: it still dead-letters to its work queue.
    const connection = await amqplib.connect(env.config.AMQP_URL);
    try {
      const channel = await connection.createChannel();
      const parked = await channel.get(topology.tierQueue(longTier), { noAck: false });
      expect(parked && parked.fields.routingKey).toBe(
        topology.delayRoutingKey(longTier, topology.queue('pollerAttempts')),
      );
      expect(parked && parked.properties.messageId).toBe('m-1');
      expect(parked && parked.properties.headers?.['x-migrated-from-exchange']).toBeUndefined();
      if (parked) channel.nack(parked, false, true);
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  it('refuses to migrate while a consumer is attached', async () => {
    const topology = topologyFor(env.config);
    const connection = await amqplib.connect(env.config.AMQP_URL);
    try {
      const channel = await connection.createChannel();
      await channel.consume(topology.queue('notifierPaymentSucceeded'), () => undefined);
      const otherSize = new Topology(topology.prefix, topology.tierDurations, 2);
      await expect(migrateQueues(env.config.AMQP_URL, otherSize)).rejects.toThrow(/stop the services first/);
      await channel.close();
    } finally {
      await connection.close();
    }
  });
});
