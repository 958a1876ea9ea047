import type { Config } from '@payments/platform';
import { msPer } from '../measure';
import { rawDatabase, rawRabbit, rawRedisLock } from '../raw';
import type { RowContext } from './context';

/**
 * Raw ceilings, before the services open their pools (MariaDB allows 151 connections): returns the
 * raw database transactions per second the apply rows are judged against.
 */
export async function measureRawCeilings(rows: RowContext, config: Config): Promise<number> {
  const { m, result } = rows;
  const rawDb = await m.measured('raw MariaDB transactions', 30_000, () => rawDatabase(config));
  // Each queue type in a phase of its own: RabbitMQ's CPU per publish is each one's (issue 32.4).
  const rawMq = {} as Record<'quorum' | 'classic', Awaited<ReturnType<typeof rawPublishes>>>;
  for (const queueType of ['quorum', 'classic'] as const)
    rawMq[queueType] = await rawPublishes(rows, config, queueType);
  const rawRedis = await m.measured('raw Redis lock', 30_000, () => rawRedisLock(config));
  result.rawCeilings = {
    mariadbTransactions: { ...rawDb.value, cpu: rawDb.cpu },
    rabbitmqConfirmedPublishes: {
      what: rawMq.quorum.what,
      quorumQueue: rawMq.quorum.figures,
      classicQueue: rawMq.classic.figures,
    },
    redisLockAcquireRelease: { ...rawRedis.value, cpu: rawRedis.cpu },
  };
  return rawDb.value.perSecond;
}

/** Confirmed persistent publishes to one queue type, with RabbitMQ's CPU per publish (the warm-up's included). */
async function rawPublishes({ m }: RowContext, config: Config, queueType: 'quorum' | 'classic') {
  const { value, cpu } = await m.measured(`raw RabbitMQ confirmed publishes (${queueType})`, 30_000, () =>
    rawRabbit(config, [queueType]),
  );
  const figures = (value as Record<string, unknown>)[`${queueType}Queue`] as { publishedWithWarmUp: number };
  return {
    what: value.what,
    figures: {
      ...figures,
      cpu,
      rabbitmqCpuMsPerPublish: msPer(cpu, 'rabbitmq', figures.publishedWithWarmUp),
      note: "RabbitMQ's CPU over the phase (its 1 s warm-up included) ÷ every publish confirmed in it",
    },
  };
}
