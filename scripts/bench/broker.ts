/**
 * The broker's own counts of a phase's messages (issue 32.4), from the RabbitMQ management API
 * (`BENCH_RABBITMQ_API`, by default port 15672 of the AMQP_URL's host, with its user and password):
 * per queue of the bench's TOPOLOGY_PREFIX, the messages published into it, delivered from it and
 * acked, and the broker-wide totals of /api/overview (which count anyone else's traffic too). The
 * management API's figures are sampled (every `collect_statistics_interval`, 5 s by default, each
 * queue on its own timer): `settledQueueStats` reads until two reads a full interval apart agree.
 */
import { performance } from 'node:perf_hooks';
import { httpJson } from './http';
import { sleep } from './pool';
import { round } from './stats';

export interface QueueCounts {
  publish: number;
  deliverGet: number;
  ack: number;
  redeliver: number;
}

export interface BrokerSnapshot {
  /** Per queue (the prefix and its dot taken off the name). */
  queues: Record<string, QueueCounts>;
  /** /api/overview's message_stats: the whole broker, whoever else uses it. */
  overview: Record<string, number>;
}

interface ApiQueue {
  name: string;
  consumers?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  message_stats?: Record<string, unknown>;
}

/** Where the management API is and who to be there, from the AMQP URL (guest/guest on 15672 by default). */
export function managementApi(amqpUrl: string): {
  base: string;
  headers: Record<string, string>;
  vhost: string;
} {
  const url = new URL(amqpUrl);
  const user = decodeURIComponent(url.username || 'guest');
  const password = decodeURIComponent(url.password || 'guest');
  const vhost = url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : '/';
  return {
    base: process.env.BENCH_RABBITMQ_API ?? `http://${url.hostname}:15672/api`,
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    vhost,
  };
}

const count = (stats: Record<string, unknown> | undefined, key: string) =>
  typeof stats?.[key] === 'number' ? (stats[key] as number) : 0;

export class BrokerStats {
  private readonly api: ReturnType<typeof managementApi>;

  constructor(
    amqpUrl: string,
    private readonly prefix: string,
  ) {
    this.api = managementApi(amqpUrl);
  }

  private async get<T>(path: string): Promise<T> {
    const answer = await httpJson('GET', `${this.api.base}${path}`, undefined, this.api.headers, 10_000);
    if (answer.status !== 200) throw new Error(`RabbitMQ management API ${path} answered ${answer.status}`);
    return answer.body as T;
  }

  /** The prefix's queues as the management API last sampled them. */
  async queues(): Promise<ApiQueue[]> {
    const all = await this.get<ApiQueue[]>(
      `/queues/${encodeURIComponent(this.api.vhost)}?columns=name,consumers,messages_ready,messages_unacknowledged,message_stats`,
    );
    return all.filter((queue) => queue.name.startsWith(`${this.prefix}.`));
  }

  async snapshot(): Promise<BrokerSnapshot> {
    const [queues, overview] = await Promise.all([
      this.queues(),
      this.get<{ message_stats?: Record<string, unknown> }>('/overview'),
    ]);
    const counts: Record<string, QueueCounts> = {};
    for (const queue of queues)
      counts[queue.name.slice(this.prefix.length + 1)] = {
        publish: count(queue.message_stats, 'publish'),
        deliverGet: count(queue.message_stats, 'deliver_get'),
        ack: count(queue.message_stats, 'ack'),
        redeliver: count(queue.message_stats, 'redeliver'),
      };
    const overviewCounts: Record<string, number> = {};
    for (const [key, value] of Object.entries(overview.message_stats ?? {}))
      if (typeof value === 'number') overviewCounts[key] = value;
    return { queues: counts, overview: overviewCounts };
  }

  /**
   * A snapshot once the sampled counters have settled. Every queue's and channel's counters reach
   * the management API at least once per statistics interval (`intervalMs`), so once nothing has
   * moved since `quietSince` (a performance.now() time: the services idle, the queues empty), a
   * read more than an interval later is final: settled when two reads a second apart past that
   * agree; otherwise (no `quietSince`) when the counters have not changed for longer than an
   * interval. At most `maxMs` (then `settled: false`). The bench's own queues (`bench.`) are left
   * out, so that a phase on them may run meanwhile.
   */
  async settledQueueStats(
    quietSince?: number,
    intervalMs = 5000,
    maxMs = 20_000,
  ): Promise<{ snapshot: BrokerSnapshot; settled: boolean; waitedMs: number }> {
    const started = performance.now();
    const stableMs = intervalMs + 500;
    const read = async () => {
      const snapshot = await this.snapshot();
      for (const queue of Object.keys(snapshot.queues))
        if (queue.startsWith('bench.')) delete snapshot.queues[queue];
      return { snapshot, key: JSON.stringify(snapshot.queues), at: performance.now() };
    };
    let last = await read();
    let sameSince = last.at;
    for (;;) {
      await sleep(1000);
      const next = await read();
      const agree = next.key === last.key;
      if (!agree) sameSince = next.at;
      last = next;
      const pastQuiet = quietSince !== undefined && next.at - quietSince >= stableMs && agree;
      const settled = pastQuiet || next.at - sameSince >= stableMs;
      const waitedMs = Math.round(next.at - started);
      if (settled || waitedMs >= maxMs) return { snapshot: next.snapshot, settled, waitedMs };
    }
  }
}

/** Whether a queue (named without the prefix) is one of the delay tiers. */
export const isDelayTier = (queue: string) => queue.startsWith('payments.delay.');

/**
 * What the broker carried between two snapshots, per payment: per queue (publishes into it,
 * deliveries and acks from it), and the totals: publishes into the work queues, publishes into the
 * delay tiers (each such message leaves its tier dead-lettered back to its work queue), deliveries
 * and acks. A queue that appeared in between counts from zero.
 */
export function brokerMessagesPer(before: BrokerSnapshot, after: BrokerSnapshot, payments: number) {
  const per = (n: number) => (payments > 0 ? round(n / payments, 3) : null);
  const perQueue: Record<string, Record<string, number | null>> = {};
  const totals = { publishedToWorkQueues: 0, throughDelayTiers: 0, deliveries: 0, acks: 0, redeliveries: 0 };
  for (const [queue, now] of Object.entries(after.queues)) {
    const was = before.queues[queue] ?? { publish: 0, deliverGet: 0, ack: 0, redeliver: 0 };
    const delta = {
      publish: now.publish - was.publish,
      deliverGet: now.deliverGet - was.deliverGet,
      ack: now.ack - was.ack,
      redeliver: now.redeliver - was.redeliver,
    };
    if (delta.publish === 0 && delta.deliverGet === 0 && delta.ack === 0) continue;
    perQueue[queue] = {
      published: delta.publish,
      delivered: delta.deliverGet,
      acked: delta.ack,
      publishedPerPayment: per(delta.publish),
      deliveredPerPayment: per(delta.deliverGet),
    };
    if (isDelayTier(queue)) totals.throughDelayTiers += delta.publish;
    else totals.publishedToWorkQueues += delta.publish;
    totals.deliveries += delta.deliverGet;
    totals.acks += delta.ack;
    totals.redeliveries += delta.redeliver;
  }
  const overview: Record<string, number> = {};
  for (const [key, value] of Object.entries(after.overview))
    if (!key.endsWith('_details')) overview[key] = value - (before.overview[key] ?? 0);
  return {
    perPayment: {
      publishes: per(totals.publishedToWorkQueues + totals.throughDelayTiers),
      publishesToWorkQueues: per(totals.publishedToWorkQueues),
      deadLettersThroughDelayTiers: per(totals.throughDelayTiers),
      deliveries: per(totals.deliveries),
      acks: per(totals.acks),
    },
    totals,
    perQueue,
    brokerWideOverviewDelta: overview,
  };
}
