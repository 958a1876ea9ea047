import { Periodic, Schedule, type Broker } from '@payments/platform';
import { closePayOrder, newEvent } from '@payments/core';
import type { PollerDeps } from './deps';
import { positionHeaders } from './domain/poll-headers';

const BATCH = 200;

/**
 * Backstops, every SWEEP_INTERVAL: re-enqueue attempts whose delayed message went missing, and
 * close pay orders that expired with nothing in flight. Safe with several pollers: each
 * re-enqueue is claimed by a compare-and-set on the attempt's poll_count.
 */
export class PollerSweeps {
  private readonly periodic: Periodic;

  constructor(
    private readonly deps: PollerDeps,
    private readonly broker: Broker,
  ) {
    this.periodic = new Periodic(
      { name: 'sweep', everyMs: deps.config.SWEEP_INTERVAL, run: () => this.runOnce() },
      deps.log,
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  async runOnce(): Promise<{ requeued: number; expired: number }> {
    return { requeued: await this.requeueOverdue(), expired: await this.expireIdleOrders() };
  }

  private async requeueOverdue(): Promise<number> {
    const { attempts, config } = this.deps;
    const schedule = Schedule.of(config.POLL_SCHEDULE);
    // A delayed message is due at next_poll_at; allow one sweep interval of lateness before taking over.
    const overdue = await attempts.overdue(Math.max(config.SWEEP_INTERVAL, 1000), BATCH);
    let requeued = 0;
    for (const attempt of overdue) {
      const step = Math.min(attempt.poll_count, schedule.length - 1);
      if (!(await attempts.claimNextPoll(attempt.id, attempt.poll_count, schedule.delayAt(step)))) continue;
      const [payOrder] = await this.deps.dataSource.query('SELECT pay_order_no FROM pay_order WHERE id = ?', [
        attempt.pay_order_id,
      ]);
      const event = newEvent('channel_order.created', {
        payOrderNo: payOrder.pay_order_no,
        merchantOrderNo: attempt.merchant_order_no,
        channelOrderNo: attempt.channel_order_no,
        channel: attempt.channel,
        amount: Number(attempt.amount),
        currency: attempt.currency,
        expireAt: new Date(attempt.expire_at).toISOString(),
      });
      await this.broker.sendToQueue(this.broker.topology.queue('pollerAttempts'), event, {
        messageId: event.eventId,
        type: event.type,
        headers: positionHeaders({ seq: attempt.poll_count + 1, step, closeTried: false, afterExpiry: 0 }),
      });
      requeued += 1;
    }
    if (requeued > 0) {
      this.deps.metrics.swept.inc(requeued);
      this.deps.log.warn({ requeued }, 'sweep re-enqueued overdue attempts');
    }
    return requeued;
  }

  private async expireIdleOrders(): Promise<number> {
    let expired = 0;
    for (const order of await this.deps.attempts.expiredIdleOrders(BATCH)) {
      if (await closePayOrder(this.deps.dataSource, order.id, 'EXPIRED', { onlyIfIdle: true })) expired += 1;
    }
    if (expired > 0) {
      this.deps.metrics.expired.inc(expired);
      this.deps.relay.kick();
    }
    return expired;
  }
}
