import { Topology, WORK_QUEUES } from './topology';

describe('Topology', () => {
  const topology = new Topology('t1', [300, 3000, 3000]);

  it('prefixes every exchange and queue', () => {
    for (const exchange of topology.exchanges()) expect(exchange.name.startsWith('t1.')).toBe(true);
    for (const queue of topology.queues()) expect(queue.name.startsWith('t1.')).toBe(true);
    expect(new Topology('', []).queue('pollerAttempts')).toBe('payments.poller.attempts');
  });

  it('gives every work queue a quorum queue with a delivery limit and a dlq', () => {
    const queues = new Map(topology.queues().map((queue) => [queue.name, queue]));
    for (const key of Object.keys(WORK_QUEUES) as (keyof typeof WORK_QUEUES)[]) {
      const queue = queues.get(topology.queue(key))!;
      expect(queue.arguments['x-queue-type']).toBe('quorum');
      expect(queue.arguments['x-delivery-limit']).toBeGreaterThanOrEqual(10);
      expect(queue.arguments['x-dead-letter-routing-key']).toBe(`${queue.name}.dlq`);
      expect(queues.has(`${queue.name}.dlq`)).toBe(true);
      expect(queue.bindings).toContainEqual({ exchange: 't1.payments.retry', key: `*.${queue.name}` });
    }
  });

  it('declares one tier per distinct delay, dead-lettered back through the retry exchange', () => {
    const tiers = topology.queues().filter((queue) => queue.name.startsWith('t1.payments.delay.'));
    expect(tiers.map((tier) => tier.name).sort()).toEqual([
      't1.payments.delay.300ms',
      't1.payments.delay.3s',
    ]);
    const tier = tiers.find((queue) => queue.name.endsWith('3s'))!;
    expect(tier.arguments).toEqual({
      'x-queue-type': 'quorum',
      'x-quorum-initial-group-size': 1,
      'x-message-ttl': 3000,
      'x-dead-letter-exchange': 't1.payments.retry',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
    expect(topology.delayRoutingKey(3000, 't1.payments.poller.attempts')).toBe(
      '3s.t1.payments.poller.attempts',
    );
  });

  it('replicates every queue a payment can wait in to the group size it was given', () => {
    const clustered = new Topology('t1', [3000], 3);
    for (const queue of clustered.queues()) {
      expect(queue.arguments).toMatchObject({ 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3 });
    }
  });

  it('gives the events exchange an alternate exchange', () => {
    const events = topology.exchanges().find((exchange) => exchange.name === 't1.payments.events')!;
    expect(events.arguments).toEqual({ 'alternate-exchange': 't1.payments.unrouted' });
  });

  it('accepts operator queue names with or without the prefix', () => {
    expect(topology.resolveQueueName('payments.poller.attempts.dlq')).toBe('t1.payments.poller.attempts.dlq');
    expect(topology.resolveQueueName('t1.payments.poller.attempts.dlq')).toBe(
      't1.payments.poller.attempts.dlq',
    );
  });
});
