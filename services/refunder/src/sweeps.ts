import { Periodic, Schedule, type Broker } from '@payments/platform';
import { newEvent, refundEventData } from '@payments/core';
import { riskLimits, type RefunderDeps } from './deps';
import { REFUND_STEP_HEADER } from './operations/send-refund';

const BATCH = 200;
/**
 * How far back the reconciliation looks: an extra charge is found by its event within seconds,
 * so a day of sweeps (1,440 at the default interval) is the backstop's window.
 */
const LOOKBACK_MS = 24 * 60 * 60 * 1000;

/**
 * Reconciliation every SWEEP_INTERVAL: extra charges whose event was lost get their refund, and
 * PROCESSING refunds whose message was lost are driven again. Safe with several refunders: the
 * refund number is unique per attempt and reason, and the provider refunds once per number.
 */
export class RefunderSweeps {
  private readonly periodic: Periodic;

  constructor(
    private readonly deps: RefunderDeps,
    private readonly broker: Broker,
  ) {
    this.periodic = new Periodic(
      { name: 'refund sweep', everyMs: deps.config.SWEEP_INTERVAL, run: () => this.runOnce() },
      deps.log,
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  async runOnce(): Promise<{ requested: number; redriven: number }> {
    const { refunds, config, log } = this.deps;
    let requested = 0;
    for (const charge of await refunds.extraChargesWithoutRefund(BATCH, LOOKBACK_MS)) {
      const result = await refunds.request(charge.channel_order_no, charge.reason, riskLimits(config));
      if (result.outcome === 'CREATED') {
        requested += 1;
        this.deps.metrics.refunds.inc({ reason: charge.reason, status: result.refund.status });
      } else if (result.outcome === 'REFUSED') {
        log.error(
          { channelOrderNo: charge.channel_order_no, problem: result.problem },
          'sweep found an extra charge it may not refund',
        );
      }
    }
    if (requested > 0) {
      this.deps.relay.kick();
      log.warn({ requested }, 'sweep requested refunds whose event was missing');
    }
    // A refund's message comes back at least every last poll step; allow a sweep interval more.
    const schedule = Schedule.of(config.REFUND_POLL_SCHEDULE);
    const grace = schedule.delayAt(schedule.length - 1) + config.SWEEP_INTERVAL;
    let redriven = 0;
    for (const refund of await refunds.stalled(grace, BATCH)) {
      await refunds.touch(refund, refund.last_error ?? undefined);
      const [payOrder] = await refunds.payOrderOf(refund);
      const event = newEvent('refund.requested', {
        ...refundEventData(refund, payOrder!.pay_order_no),
        status: 'PROCESSING',
      });
      // Step 1: ask the provider what it knows before refunding (it may have the refund already).
      await this.broker.sendToQueue(this.broker.topology.queue('refunderRefunds'), event, {
        messageId: event.eventId,
        type: event.type,
        headers: { [REFUND_STEP_HEADER]: 1 },
      });
      redriven += 1;
    }
    return { requested, redriven };
  }
}
