import type { Config } from '../config';
import type { Logger } from '../logging';
import type { Broker } from './broker';
import { Consumer, type ConsumerOptions } from './consumer';
import { SUBSCRIPTIONS, type SubscriptionKey } from './topology';

/** What a service gives to a subscription: how to read its messages and what to do with them. */
export type SubscriptionHandlers<T> = Omit<
  ConsumerOptions<T>,
  'queue' | 'prefetch' | 'retrySchedule' | 'maxBodyBytes'
>;

/** A consumer of one subscription of `SUBSCRIPTIONS`, with its queue, prefetch and retry policy. */
export function subscribe<T>(
  broker: Broker,
  config: Pick<Config, 'RETRY_SCHEDULE'>,
  subscription: SubscriptionKey,
  handlers: SubscriptionHandlers<T>,
  log: Logger,
): Consumer<T> {
  const spec: (typeof SUBSCRIPTIONS)[SubscriptionKey] = SUBSCRIPTIONS[subscription];
  return new Consumer(
    broker,
    {
      ...handlers,
      queue: broker.topology.queue(spec.queue),
      prefetch: spec.prefetch,
      retrySchedule: config[spec.retry],
      ...('maxBodyBytes' in spec ? { maxBodyBytes: spec.maxBodyBytes } : {}),
    },
    log,
  );
}
