import type { Channel, ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import { connectToAnyNode, declareTopology, type QueueDrift } from './broker';
import type { Topology } from './topology';

/** Where a message sat before it was parked for the migration, so it goes back the same way. */
const FROM_EXCHANGE = 'x-migrated-from-exchange';
const FROM_ROUTING_KEY = 'x-migrated-routing-key';

export interface QueueMigration {
  queue: string;
  reason: string;
  /** Messages drained from the old queue and put back into the new one. */
  moved: number;
}

/** The queues the broker holds declared otherwise than the topology says (CONTRACT 12). */
export async function queueDrift(amqpUrl: string, topology: Topology): Promise<QueueDrift[]> {
  return withConnection(amqpUrl, (connection) => declareTopology(connection, topology));
}

/**
 * Mends drift the only way RabbitMQ allows (a queue's type and arguments never change in place):
 * for each drifted queue, drain its messages into a parking quorum queue (each publish confirmed
 * before its original is acked), delete it, declare it anew with its bindings, and put the
 * messages back. A message waiting in a delay tier goes back through the delay exchange with
 * its own routing key (its wait starts over: a delay only grows). Refuses while any consumer is
 * attached to a queue of the topology: stop the services first, so nothing is published into a
 * queue while it does not exist.
 */
export async function migrateQueues(amqpUrl: string, topology: Topology): Promise<QueueMigration[]> {
  return withConnection(amqpUrl, async (connection) => {
    const found = await declareTopology(connection, topology);
    const unavailable = found.filter((queue) => queue.kind === 'unavailable').map((queue) => queue.queue);
    if (unavailable.length > 0)
      throw new Error(`start the nodes they live on first: ${unavailable.join(', ')} out of reach`);
    const drift = found.filter((queue) => queue.kind === 'drift');
    if (drift.length === 0) return [];
    const busy = await consumedQueues(connection, topology);
    if (busy.length > 0)
      throw new Error(`stop the services first: ${busy.join(', ')} still have consumers attached`);
    const migrations: QueueMigration[] = [];
    for (const { queue, reason } of drift) {
      const declaration = topology.queues().find((candidate) => candidate.name === queue)!;
      const parking = `${queue}.migrating`;
      // Two channels: RabbitMQ 3.10's channel keeps the old queue's type once it has read from it,
      // and crashes on the same name declared as another type.
      await withConfirmChannel(connection, async (channel) => {
        await channel.assertQueue(parking, {
          durable: true,
          arguments: { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': topology.quorumGroupSize },
        });
        await moveAll(channel, queue, (message) => ({
          exchange: '',
          routingKey: parking,
          headers: {
            ...message.properties.headers,
            [FROM_EXCHANGE]: message.fields.exchange,
            [FROM_ROUTING_KEY]: message.fields.routingKey,
          },
        }));
        await deleteDrained(channel, queue);
      });
      const isTier = queue.startsWith(topology.named('payments.delay.'));
      const moved = await withConfirmChannel(connection, async (channel) => {
        await channel.assertQueue(queue, { durable: true, arguments: declaration.arguments });
        for (const binding of declaration.bindings)
          await channel.bindQueue(queue, binding.exchange, binding.key);
        const count = await moveAll(channel, parking, (message) => {
          const headers = { ...message.properties.headers };
          const exchange = String(headers[FROM_EXCHANGE] ?? '');
          const routingKey = String(headers[FROM_ROUTING_KEY] ?? queue);
          delete headers[FROM_EXCHANGE];
          delete headers[FROM_ROUTING_KEY];
          return isTier && exchange
            ? { exchange, routingKey, headers }
            : { exchange: '', routingKey: queue, headers };
        });
        await deleteDrained(channel, parking);
        return count;
      });
      migrations.push({ queue, reason, moved });
    }
    return migrations;
  });
}

/** Moves every message of `from` to where `to` says, confirming each copy before acking its original. */
async function moveAll(
  channel: ConfirmChannel,
  from: string,
  to: (message: GetMessage) => { exchange: string; routingKey: string; headers: Record<string, unknown> },
): Promise<number> {
  let moved = 0;
  for (;;) {
    const message = await channel.get(from, { noAck: false });
    if (message === false) return moved;
    const { exchange, routingKey, headers } = to(message);
    channel.publish(exchange, routingKey, message.content, {
      ...message.properties,
      headers,
      persistent: true,
    });
    await channel.waitForConfirms();
    channel.ack(message);
    moved += 1;
  }
}

/** Deletes a queue just drained, unless a message arrived meanwhile (quorum queues have no if-empty delete). */
async function deleteDrained(channel: ConfirmChannel, queue: string): Promise<void> {
  const { messageCount } = await channel.checkQueue(queue);
  if (messageCount > 0)
    throw new Error(`${queue} took ${messageCount} messages while it was drained; run again`);
  await channel.deleteQueue(queue);
}

async function consumedQueues(connection: ChannelModel, topology: Topology): Promise<string[]> {
  const busy: string[] = [];
  for (const queue of topology.queues()) {
    let channel: Channel | undefined;
    try {
      channel = await connection.createChannel();
      channel.on('error', () => undefined);
      if ((await channel.checkQueue(queue.name)).consumerCount > 0) busy.push(queue.name);
    } catch {
      // not declared yet: nobody consumes it
    } finally {
      await channel?.close().catch(() => undefined);
    }
  }
  return busy;
}

async function withConfirmChannel<T>(
  connection: ChannelModel,
  work: (channel: ConfirmChannel) => Promise<T>,
): Promise<T> {
  const channel = await connection.createConfirmChannel();
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

async function withConnection<T>(
  amqpUrl: string,
  work: (connection: ChannelModel) => Promise<T>,
): Promise<T> {
  const connection = await connectToAnyNode(amqpUrl);
  connection.on('error', () => undefined);
  try {
    return await work(connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
