import type { Config } from '@payments/platform';
import { rawDatabase, rawRabbit, rawRedisLock } from '../raw';
import type { RowContext } from './context';

/**
 * Raw ceilings, before the services open their pools (MariaDB allows 151 connections): returns the
 * raw database transactions per second the apply rows are judged against.
 */
export async function measureRawCeilings({ m, result }: RowContext, config: Config): Promise<number> {
  const rawDb = await m.measured('raw MariaDB transactions', 30_000, () => rawDatabase(config));
  const rawMq = await m.measured('raw RabbitMQ confirmed publishes', 30_000, () => rawRabbit(config));
  const rawRedis = await m.measured('raw Redis lock', 30_000, () => rawRedisLock(config));
  result.rawCeilings = {
    mariadbTransactions: { ...rawDb.value, cpu: rawDb.cpu },
    rabbitmqConfirmedPublishes: { ...rawMq.value, cpu: rawMq.cpu },
    redisLockAcquireRelease: { ...rawRedis.value, cpu: rawRedis.cpu },
  };
  return rawDb.value.perSecond;
}
