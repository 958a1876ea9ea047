/**
 * Waiting until the pipeline is quiet after a phase (issue 32.5): the four services' CPU near idle
 * and every consumed queue of the bench's prefix empty, checked twice in a row, with a bound. MariaDB,
 * RabbitMQ and Redis are not part of the test: they may serve others on this machine too, so their
 * CPU is reported, not waited for.
 */
import { performance } from 'node:perf_hooks';
import amqplib from 'amqplib';
import { isDelayTier, type BrokerStats } from './broker';
import { CpuMeter } from './cpu';
import type { Measure } from './measure';
import { sleep } from './pool';
import { log, SERVICE_KINDS, type BenchStack } from './stack';
import { round } from './stats';

/** The four services together, in % of one core, at or under which they count as idle. */
export const QUIET_SERVICES_CPU_PERCENT = Number(process.env.BENCH_QUIET_CPU_PERCENT ?? '10');
const SAMPLE_MS = 500;

export interface QuietWait {
  waitedMs: number;
  quiet: boolean;
  boundMs: number;
  /** The last sample: the services' CPU together, each server's, and the work queues' ready messages. */
  servicesCpuPercentOfOneCore: number;
  serversCpuPercentOfOneCore: Record<string, number>;
  readyInWorkQueues: number;
  /** Messages parked in the delay tiers (later poll steps, retries): waited for with `delayTiersEmpty` only. */
  inDelayTiers: number;
}

/**
 * Waits until the services are quiet, not before `notBefore` (a performance.now() time), at most
 * `maxMs`; with `delayTiersEmpty`, until no message is parked in a delay tier either (an earlier
 * phase's poll steps and retries, which would come back inside the next phase). Exact ready counts come from AMQP (checkQueue); the queue list from the management API.
 */
export async function waitQuiet(
  stack: BenchStack,
  m: Measure,
  broker: BrokerStats,
  options: { maxMs: number; notBefore?: number; delayTiersEmpty?: boolean },
): Promise<QuietWait> {
  const started = performance.now();
  const deadline = started + options.maxMs;
  // The queues someone consumes (the dead-letter and unrouted queues fill, and are read by no one).
  const queues = await broker.queues();
  const tier = (name: string) => isDelayTier(name.slice(stack.prefix.length + 1));
  const work = queues
    .filter((queue) => (queue.consumers ?? 0) > 0 && !tier(queue.name))
    .map((queue) => queue.name);
  const tiers = queues.filter((queue) => tier(queue.name)).map((queue) => queue.name);
  const connection = await amqplib.connect(stack.env.config.AMQP_URL);
  let inARow = 0;
  let last = { services: 0, servers: {} as Record<string, number>, ready: 0, tiers: 0 };
  try {
    const channel = await connection.createChannel();
    const ready = async (queues: string[]) => {
      let total = 0;
      for (const queue of queues) total += (await channel.checkQueue(queue)).messageCount;
      return total;
    };
    while (performance.now() < deadline) {
      const groups = m.cpuGroups();
      const services = Object.fromEntries(SERVICE_KINDS.map((kind) => [kind, groups[kind] ?? []]));
      const servers = {
        mariadb: groups.mariadb ?? [],
        rabbitmq: groups.rabbitmq ?? [],
        redis: groups.redis ?? [],
      };
      const meter = new CpuMeter({ ...services, ...servers }).start();
      await sleep(SAMPLE_MS);
      const cpu = meter.stop();
      const servicesPercent = SERVICE_KINDS.reduce((sum, kind) => sum + (cpu.percentOfOneCore[kind] ?? 0), 0);
      last = {
        services: servicesPercent,
        servers: Object.fromEntries(
          Object.keys(servers).map((name) => [name, cpu.percentOfOneCore[name] ?? 0]),
        ),
        ready: await ready(work),
        tiers: await ready(tiers),
      };
      const quietNow =
        last.services <= QUIET_SERVICES_CPU_PERCENT &&
        last.ready === 0 &&
        (!options.delayTiersEmpty || last.tiers === 0);
      inARow = quietNow ? inARow + 1 : 0;
      if (inARow >= 2 && performance.now() >= (options.notBefore ?? 0)) break;
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  const waitedMs = Math.round(performance.now() - started);
  log(
    inARow >= 2
      ? `quiet after ${waitedMs} ms`
      : `not quiet within ${options.maxMs} ms (services ${last.services}% of a core, ${last.ready} ready in consumed queues)`,
  );
  return {
    waitedMs,
    quiet: inARow >= 2,
    boundMs: options.maxMs,
    servicesCpuPercentOfOneCore: round(last.services, 0),
    serversCpuPercentOfOneCore: last.servers,
    readyInWorkQueues: last.ready,
    inDelayTiers: last.tiers,
  };
}
