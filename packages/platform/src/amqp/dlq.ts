import type amqplib from 'amqplib';
import { connectToAnyNode } from './broker';
import { cleanHeaders, HEADERS } from './headers';
import { DLQ_SUFFIX, type Topology } from './topology';

/** Set on every message `replayDlq` puts back: a person sent it again. */
export const REPLAYED_AT_HEADER = 'x-replayed-at';

/** Our position headers: a replayed message starts its retries (and schedules) over. */
const RESET_ON_REPLAY = /^x-(retry-count|notify-step|poll-|dead-letter|last-error|attempts|dead-lettered-at)/;

export interface DlqDepth {
  queue: string;
  /** null when the queue is not declared yet (no service has started). */
  messages: number | null;
}

export interface DeadLetterView {
  messageId?: string;
  routingKey: string;
  headers: Record<string, unknown>;
  body: string;
}

async function withChannel<T>(
  amqpUrl: string,
  work: (channel: amqplib.ConfirmChannel) => Promise<T>,
): Promise<T> {
  const connection = await connectToAnyNode(amqpUrl);
  connection.on('error', () => undefined); // a refused operation closes its channel; the caller sees the rejection
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    const result = await work(channel);
    // Close the channel before the connection: a quorum queue loses an ack still in flight
    // when the connection goes first, and the "replayed" message would stay in its dlq.
    await channel.close();
    return result;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Resolves an operator's dlq name (with or without TOPOLOGY_PREFIX) to one of ours, or throws. */
export function resolveDlq(topology: Topology, name: string): string {
  const full = topology.resolveQueueName(name.endsWith(DLQ_SUFFIX) ? name : `${name}${DLQ_SUFFIX}`);
  if (!topology.dlqNames().includes(full)) {
    throw new Error(`unknown dlq "${name}"; known: ${topology.dlqNames().join(', ')}`);
  }
  return full;
}

export async function listDlqs(amqpUrl: string, topology: Topology): Promise<DlqDepth[]> {
  const depths: DlqDepth[] = [];
  for (const queue of topology.dlqNames()) {
    // A check of a missing queue closes its channel, so each check gets its own.
    const messages = await withChannel(
      amqpUrl,
      async (channel) => (await channel.checkQueue(queue)).messageCount,
    ).catch(() => null);
    depths.push({ queue, messages });
  }
  return depths;
}

/** Reads up to `limit` dead letters without removing them. */
export async function peekDlq(amqpUrl: string, dlq: string, limit: number): Promise<DeadLetterView[]> {
  return withChannel(amqpUrl, async (channel) => {
    const views: DeadLetterView[] = [];
    for (let i = 0; i < limit; i++) {
      const message = await channel.get(dlq, { noAck: false });
      if (!message) break;
      views.push({
        messageId: message.properties.messageId as string | undefined,
        routingKey: message.fields.routingKey,
        headers: message.properties.headers ?? {},
        body: message.content.toString('utf8'),
      });
    }
    // Closing the channel returns every unacked message to the dlq, in order.
    return views;
  });
}

/**
 * Moves up to `limit` messages from a dlq back to the queue each was dead-lettered from, with
 * its retry counts reset. Each is acked only after the broker confirmed its copy.
 */
export async function replayDlq(
  amqpUrl: string,
  dlq: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<number> {
  const origin = dlq.slice(0, -DLQ_SUFFIX.length);
  return withChannel(amqpUrl, async (channel) => {
    let moved = 0;
    while (moved < limit) {
      const message = await channel.get(dlq, { noAck: false });
      if (!message) break;
      const headers = Object.fromEntries(
        Object.entries(cleanHeaders(message.properties.headers)).filter(
          ([name]) => !RESET_ON_REPLAY.test(name),
        ),
      );
      const target = String(message.properties.headers?.[HEADERS.originalQueue] ?? origin);
      await new Promise<void>((resolve, reject) => {
        channel.sendToQueue(
          target,
          message.content,
          {
            ...message.properties,
            headers: { ...headers, [REPLAYED_AT_HEADER]: new Date().toISOString() },
            persistent: true,
          },
          (error) => (error ? reject(error) : resolve()),
        );
      });
      channel.ack(message);
      moved += 1;
    }
    return moved;
  });
}
