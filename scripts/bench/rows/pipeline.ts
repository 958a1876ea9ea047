/**
 * Issue 32's figures of the whole lifecycle, measured around the max-rate lifecycle phase:
 *
 * 1. provider calls per payment, counted at the sandbox PSP (by kind; settled by the notification
 *    in that phase, and found by polling in a small phase of its own whose notifications are dropped);
 * 2. the CPU per payment of the whole pipeline (our four services, MariaDB, RabbitMQ, Redis) over
 *    the phase and the wait until the pipeline is quiet after it (so every attempt's first poll,
 *    3 s after its apply, is inside), against the floor's CPU per apply of the same run;
 * 3. the notifier's CPU per delivery against a delivery floor (FLOOR_ROLE=notifier);
 * 4. the broker's messages per payment (from its management API) and RabbitMQ's CPU per message
 *    against the raw quorum publish's.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import amqplib from 'amqplib';
import { BrokerStats, brokerMessagesPer } from '../broker';
import { CpuMeter, type CpuReport } from '../cpu';
import { httpJson } from '../http';
import { lifecycleMaxRate } from '../lifecycle';
import { msPer, ratioOf } from '../measure';
import { sleep } from '../pool';
import { stopChild } from '../processes';
import { callsPerPayment, readPspCalls, resetPspCalls } from '../provider-calls';
import { waitQuiet } from '../quiet';
import { scaled, SERVICE_POLL_SCHEDULE } from '../settings';
import { round } from '../stats';
import type { RowContext } from './context';

/** The processes of a payment's way, ours and the servers': the bench, the sandboxes and the floors are not. */
const PIPELINE = [
  'payment-gateway',
  'poller',
  'notifier',
  'refunder',
  'mariadb',
  'rabbitmq',
  'redis',
] as const;
/** The floor's processes per apply (its provider stub is the provider, as the sandboxes are for us). */
const FLOOR_APPLY = ['floorGateway', 'mariadb', 'redis', 'rabbitmq'] as const;
const SERVERS: readonly string[] = ['mariadb', 'rabbitmq', 'redis'];

export const GOALS_32 = {
  callsPerPaymentSettledByNotification: 1,
  pipelineCpuToFloorApply: 3,
  notifierCpuToDeliveryFloor: 1.5,
};

export interface FloorApply {
  cpu: CpuReport;
  created: number;
}

type Paid = { merchantOrderNo: string; channelOrderNo: string };

const sumOf = (cpu: CpuReport, groups: readonly string[]) =>
  groups.reduce((sum, group) => sum + (cpu.cpuMs[group] ?? 0), 0);

/**
 * The max-rate lifecycle inside a window measured whole: quiet first (the services idle, the work
 * queues empty, the broker's sampled counters settled), the phase, then the wait until the
 * pipeline is quiet again and at least the first poll step past the phase's end. Returns the
 * phase as `m.measured` does (its figures unchanged), and writes issue 32's figures.
 */
export async function maxRateLifecycleWindow(
  rows: RowContext,
  payments: number,
  floorApply: FloorApply | undefined,
) {
  const { stack, m, result } = rows;
  const broker = new BrokerStats(stack.env.config.AMQP_URL, stack.prefix);
  const firstPollMs = SERVICE_POLL_SCHEDULE[0] ?? 3000;
  const quietBefore = await m.phase('wait until the pipeline is quiet (before the lifecycle)', 40_000, () =>
    waitQuiet(stack, m, broker, { maxMs: 20_000, delayTiersEmpty: true }),
  );
  // While the broker's counters settle, our services are idle: what the servers burn meanwhile is
  // others' (this machine's other users of MariaDB, RabbitMQ and Redis) and their own upkeep.
  const idle = new CpuMeter(m.cpuGroups()).start();
  // Quiet for the two samples it took to see it: nothing has moved since a second ago.
  const quietBeforeAt = performance.now() - 1000;
  const before = await m.phase('broker statistics settle (before the lifecycle)', 30_000, () =>
    broker.settledQueueStats(quietBeforeAt),
  );
  const background = idle.stop();
  await resetPspCalls(stack.pspUrl);

  const whole = new CpuMeter(m.cpuGroups()).start();
  const windowStarted = performance.now();
  const paid: Paid[] = [];
  const maxRate = await m.measured('lifecycle at max rate', 120_000, () =>
    lifecycleMaxRate(stack, payments, 64, paid),
  );
  const phaseEnded = performance.now();
  const quietAfter = await m.phase(
    "wait until the pipeline is quiet (the lifecycle's first polls included)",
    60_000,
    () =>
      waitQuiet(stack, m, broker, { maxMs: firstPollMs + 25_000, notBefore: phaseEnded + firstPollMs + 500 }),
  );
  const wholeCpu = whole.stop();
  const quietAfterAt = performance.now() - 1000;
  const windowSeconds = round((performance.now() - windowStarted) / 1000, 2);
  const calls = await readPspCalls(stack.pspUrl);
  const notified = Number(maxRate.value.notified);
  const per = (group: string) => msPer(wholeCpu, group, notified);

  // The broker's counters settle while the delivery floor runs: it uses a queue of the bench's
  // own (bench.floor.notifier), which the lifecycle's counts leave out.
  const settling = m.phase(
    'broker statistics settle (after the lifecycle; the delivery floor meanwhile)',
    30_000,
    () => broker.settledQueueStats(quietAfterAt),
  );
  settling.catch(() => undefined);
  await measureDeliveryFloor(rows, per('notifier'));
  const after = await settling;

  const pipelineMs = notified > 0 ? round(sumOf(wholeCpu, PIPELINE) / notified, 3) : null;
  const floorMs = (group: string) => (floorApply ? msPer(floorApply.cpu, group, floorApply.created) : null);
  const floorTotal =
    floorApply && floorApply.created > 0
      ? round(sumOf(floorApply.cpu, FLOOR_APPLY) / floorApply.created, 3)
      : null;
  const pipelineRatio = ratioOf(pipelineMs, floorTotal);
  // The same, less the servers' background (their CPU while ours idled, as a rate) over each window.
  const less = (cpu: CpuReport, groups: readonly string[], operations: number) =>
    operations > 0
      ? round(
          groups.reduce((sum, group) => {
            const rate = SERVERS.includes(group) ? (background.cpuMs[group] ?? 0) / background.seconds : 0;
            return sum + Math.max(0, (cpu.cpuMs[group] ?? 0) - rate * cpu.seconds);
          }, 0) / operations,
          3,
        )
      : null;
  const pipelineLess = less(wholeCpu, PIPELINE, notified);
  const floorLess = floorApply ? less(floorApply.cpu, FLOOR_APPLY, floorApply.created) : null;
  m.perOperation('whole lifecycle window (per payment notified)', wholeCpu, notified);

  const lifecycleCalls = callsPerPayment(
    calls,
    paid.map((entry) => entry.channelOrderNo),
  );
  const messages = brokerMessagesPer(before.snapshot, after.snapshot, notified);
  const publishes = messages.totals.publishedToWorkQueues + messages.totals.throughDelayTiers;
  const rabbitmqPerMessage = msPer(wholeCpu, 'rabbitmq', publishes);
  const rabbitmqPerMessageLess = less(wholeCpu, ['rabbitmq'], publishes);
  const rawQuorum = rawQuorumRabbitmqCpuMsPerPublish(result);

  result.pipeline = {
    what: "the max-rate lifecycle phase and the wait until the pipeline is quiet after it (its attempts' first polls, 3 s after each apply, inside), one CPU window; per payment notified in the phase",
    payments: notified,
    windowSeconds,
    quietBefore,
    quietAfter,
    cpuMsPerPayment: {
      ...Object.fromEntries(PIPELINE.map((group) => [group, per(group)])),
      total: pipelineMs,
    },
    floorCpuMsPerApply: {
      ...Object.fromEntries(FLOOR_APPLY.map((group) => [group, floorMs(group)])),
      total: floorTotal,
    },
    ratioToFloorApply: pipelineRatio,
    goalRatio: GOALS_32.pipelineCpuToFloorApply,
    meetsGoal: pipelineRatio !== null && pipelineRatio <= GOALS_32.pipelineCpuToFloorApply,
    lessServersBackground: {
      serversBackgroundPercentOfOneCore: Object.fromEntries(
        SERVERS.map((group) => [group, background.percentOfOneCore[group] ?? 0]),
      ),
      measuredOverSeconds: background.seconds,
      ...Object.fromEntries(
        SERVERS.map((group) => [`${group}CpuMsPerPayment`, less(wholeCpu, [group], notified)]),
      ),
      pipelineCpuMsPerPayment: pipelineLess,
      floorCpuMsPerApply: floorLess,
      ratioToFloorApply: ratioOf(pipelineLess, floorLess),
      note: "MariaDB's, RabbitMQ's and Redis's CPU less their rate while our services idled (the broker statistics' settling before the window) times each window's length: what others on this machine and the servers' own upkeep would add",
    },
    cpu: wholeCpu,
    note: 'excluded: the sandboxes, the bench process (load generator and order service) and the floors; MariaDB, RabbitMQ and Redis may also serve others on this machine. The floor: floorGateway + MariaDB + Redis + RabbitMQ per apply in its phase (its provider stub excluded)',
  };
  result.providerCalls = {
    what: 'calls the sandbox PSP answered at its provider routes (GET /sandbox/calls), per payment; counted by the sandbox, not by us',
    settledByNotification: {
      ...lifecycleCalls,
      phase: 'lifecycle at max rate and the wait after it (every notification sent)',
      goalCallsPerPayment: GOALS_32.callsPerPaymentSettledByNotification,
      meetsGoal: lifecycleCalls.perPayment.all === GOALS_32.callsPerPaymentSettledByNotification,
    },
    atTheSandboxInTheWindow: calls.totals,
  };
  result.brokerMessages = {
    what: "the bench prefix's queues in the management API (sampled every 5 s; read once unchanged for 5.5 s), between before and after the window, per payment notified",
    lifecycle: messages,
    statsSettled: {
      before: { settled: before.settled, waitedMs: before.waitedMs },
      after: { settled: after.settled, waitedMs: after.waitedMs },
    },
    rabbitmqCpuMsPerMessage: rabbitmqPerMessage,
    rabbitmqCpuMsPerPayment: per('rabbitmq'),
    rawQuorumRabbitmqCpuMsPerPublish: rawQuorum,
    ratioToRawQuorumPublish: ratioOf(rabbitmqPerMessage, rawQuorum),
    rabbitmqCpuMsPerMessageLessBackground: rabbitmqPerMessageLess,
    ratioToRawQuorumPublishLessBackground: ratioOf(rabbitmqPerMessageLess, rawQuorum),
    note: "per message = RabbitMQ's CPU in the window ÷ the messages published into the prefix's queues (work queues and delay tiers); the raw figure from the raw ceilings' quorum phase",
  };
  return maxRate;
}

function rawQuorumRabbitmqCpuMsPerPublish(result: Record<string, unknown>): number | null {
  const raw = result.rawCeilings as
    | { rabbitmqConfirmedPublishes?: { quorumQueue?: { rabbitmqCpuMsPerPublish?: number | null } } }
    | undefined;
  return raw?.rabbitmqConfirmedPublishes?.quorumQueue?.rabbitmqCpuMsPerPublish ?? null;
}

/**
 * Payments whose notification the PSP drops (dropNotifyRate 1), so that each is settled by the
 * poller's query: create, then the queries up to the one that found it paid. Small, after the
 * max-rate window, so that its notified payments are not mixed up with it.
 */
export async function measurePolledPayments({ stack, m, result }: RowContext): Promise<void> {
  const broker = new BrokerStats(stack.env.config.AMQP_URL, stack.prefix);
  const firstPollMs = SERVICE_POLL_SCHEDULE[0] ?? 3000;
  await resetPspCalls(stack.pspUrl);
  await stack.setPspFaults({ dropNotifyRate: 1 });
  const paid: Paid[] = [];
  let figures: Awaited<ReturnType<typeof lifecycleMaxRate>>;
  try {
    figures = await m.phase('lifecycle with dropped notifications (settled by polling)', 90_000, () =>
      lifecycleMaxRate(stack, scaled(50), 16, paid),
    );
  } finally {
    await stack.setPspFaults(undefined);
  }
  const ended = performance.now();
  const quiet = await waitQuiet(stack, m, broker, { maxMs: 10_000, notBefore: ended + 500 });
  const calls = await readPspCalls(stack.pspUrl);
  const polled = callsPerPayment(
    calls,
    paid.map((entry) => entry.channelOrderNo),
  );
  const expected =
    polled.perPayment.queriesUpToTheOneThatFoundItPaid === null
      ? null
      : round(1 + polled.perPayment.queriesUpToTheOneThatFoundItPaid, 3);
  const providerCalls = (result.providerCalls ??= {}) as Record<string, unknown>;
  providerCalls.settledByPolling = {
    ...polled,
    phase: `${paid.length} payments applied and paid, 16 at a time, their notifications dropped by the PSP; each found by the poller (first step ${firstPollMs} ms)`,
    notified: figures.notified,
    notNotifiedWithin60s: figures.notNotifiedWithin60s,
    goal: 'create + the queries up to the one that found it paid, nothing after',
    expectedCallsPerPayment: expected,
    meetsGoal:
      polled.perPayment.all !== null &&
      polled.perPayment.all === expected &&
      polled.perPayment.queriesAfterItWasFoundPaid === 0,
    quietAfter: quiet,
  };
}

/** A payment.succeeded-like envelope, as the notifier consumes them. */
function succeededEvent(index: number, tag: string) {
  const merchantOrderNo = `floorn-${tag}-${index}`;
  return Buffer.from(
    JSON.stringify({
      eventId: randomUUID(),
      type: 'payment.succeeded',
      occurredAt: new Date().toISOString(),
      data: {
        payOrderNo: `po_floor${tag}${index}`,
        merchantOrderNo,
        channelOrderNo: `co_floor${tag}${index}`,
        channel: 'sandbox-wallet',
        amount: 1000 + (index % 9000),
        currency: 'CNY',
        paidAt: new Date().toISOString(),
      },
    }),
  );
}

/**
 * The delivery floor (issue 32.3): the floor program's notifier role consumes a quorum queue of
 * the bench's prefix with prefetch 64, as the notifier does; the bench publishes payment.succeeded-like
 * persistent messages to it (confirmed, 256 in flight) and waits until the floor delivered them all.
 * Its CPU per delivery beside the real notifier's in the lifecycle window (`notifierCpuMsPerDelivery`).
 */
export async function measureDeliveryFloor(
  { stack, m, result }: RowContext,
  notifierCpuMsPerDelivery: number | null,
): Promise<void> {
  const queue = `${stack.prefix}.bench.floor.notifier`;
  const broker = new BrokerStats(stack.env.config.AMQP_URL, stack.prefix);
  const floor = await m.phase('start the delivery floor (FLOOR_ROLE=notifier)', 60_000, () =>
    stack.startFloorNotifier(queue),
  );
  m.floorNotifierPid = floor.pid;
  const connection = await amqplib.connect(stack.env.config.AMQP_URL);
  const delivered = async () =>
    (await httpJson('GET', `${floor.url}/stats`)).body as {
      delivered: number;
      refused: number;
      failed: number;
    };
  const publishAndWait = async (count: number, tag: string) => {
    const channel = await connection.createConfirmChannel();
    const target = (await delivered()).delivered + count;
    let next = 0;
    const publisher = async () => {
      while (next < count) {
        const index = next++;
        await new Promise<void>((resolve, reject) =>
          channel.publish(
            '',
            queue,
            succeededEvent(index, tag),
            { persistent: true, contentType: 'application/json', messageId: randomUUID() },
            (error) =>
              error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: 256 }, publisher));
    await channel.close();
    const deadline = performance.now() + 60_000;
    let stats = await delivered();
    while (stats.delivered < target && performance.now() < deadline) {
      await sleep(25);
      stats = await delivered();
    }
    return stats;
  };
  try {
    const tag = Date.now().toString(36);
    await m.phase('warm the delivery floor (not measured)', 60_000, () =>
      publishAndWait(scaled(200), `w${tag}`),
    );
    const quiet = await m.phase('wait until the services are quiet (before the delivery floor)', 30_000, () =>
      waitQuiet(stack, m, broker, { maxMs: 15_000, delayTiersEmpty: true }),
    );
    const count = scaled(2000);
    const started = performance.now();
    const before = await delivered();
    const { value: stats, cpu } = await m.measured('floor: deliveries (FLOOR_ROLE=notifier)', 90_000, () =>
      publishAndWait(count, tag),
    );
    const seconds = (performance.now() - started) / 1000;
    const deliveries = stats.delivered - before.delivered;
    m.perOperation('floor: deliveries (per delivery)', cpu, deliveries);
    const floorMs = msPer(cpu, 'floorNotifier', deliveries);
    const ratio = ratioOf(notifierCpuMsPerDelivery, floorMs);
    result.deliveryFloor = {
      what: 'consume a persistent message from a quorum queue (prefetch 64), one HMAC-signed keep-alive POST to the order service, one durable MariaDB transaction (notification_log row + outbox row, one round trip), one ack',
      published: count,
      delivered: deliveries,
      refused: stats.refused - before.refused,
      failed: stats.failed - before.failed,
      deliveriesPerSecond: round(deliveries / seconds, 1),
      quietBefore: quiet,
      cpu,
      floorNotifierCpuMsPerDelivery: floorMs,
      mariadbCpuMsPerDelivery: msPer(cpu, 'mariadb', deliveries),
      rabbitmqCpuMsPerDelivery: msPer(cpu, 'rabbitmq', deliveries),
      ours: { notifierCpuMsPerDelivery },
      ratioNotifierToFloor: ratio,
      goalRatio: GOALS_32.notifierCpuToDeliveryFloor,
      meetsGoal: ratio !== null && ratio <= GOALS_32.notifierCpuToDeliveryFloor,
      note: "ours: the notifier's CPU in the whole lifecycle window ÷ the payments notified in it; the floor's RabbitMQ figure includes the bench's publishes to its queue",
    };
  } finally {
    m.floorNotifierPid = undefined;
    await stopChild(floor.child, 10_000);
    const channel = await connection.createChannel().catch(() => undefined);
    await channel?.deleteQueue(queue).catch(() => undefined);
    await connection.close().catch(() => undefined);
  }
}

/** Issue 32's five figures in one place (each from its row above; null where a row did not run). */
export function issue32Summary(result: Record<string, unknown>) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = result as any;
  return {
    '1 providerCallsPerPayment': {
      settledByNotification: r.providerCalls?.settledByNotification?.perPayment ?? null,
      settledByPolling: r.providerCalls?.settledByPolling?.perPayment ?? null,
      meetsGoals: {
        settledByNotification: r.providerCalls?.settledByNotification?.meetsGoal ?? null,
        settledByPolling: r.providerCalls?.settledByPolling?.meetsGoal ?? null,
      },
    },
    '2 pipelineCpuMsPerPayment': {
      perProcess: r.pipeline?.cpuMsPerPayment ?? null,
      floorCpuMsPerApply: r.pipeline?.floorCpuMsPerApply?.total ?? null,
      ratio: r.pipeline?.ratioToFloorApply ?? null,
      ratioLessServersBackground: r.pipeline?.lessServersBackground?.ratioToFloorApply ?? null,
      goal: GOALS_32.pipelineCpuToFloorApply,
    },
    '3 notifierCpuMsPerDelivery': {
      ours: r.deliveryFloor?.ours?.notifierCpuMsPerDelivery ?? null,
      floor: r.deliveryFloor?.floorNotifierCpuMsPerDelivery ?? null,
      ratio: r.deliveryFloor?.ratioNotifierToFloor ?? null,
      goal: GOALS_32.notifierCpuToDeliveryFloor,
    },
    '4 brokerPerPayment': {
      ...(r.brokerMessages?.lifecycle?.perPayment ?? {}),
      rabbitmqCpuMsPerMessage: r.brokerMessages?.rabbitmqCpuMsPerMessage ?? null,
      rawQuorumRabbitmqCpuMsPerPublish: r.brokerMessages?.rawQuorumRabbitmqCpuMsPerPublish ?? null,
      ratio: r.brokerMessages?.ratioToRawQuorumPublish ?? null,
    },
    '5 waits': {
      beforeTheFloorMs: r.floor?.quietBefore?.waitedMs ?? null,
      beforeTheLifecycleMs: r.pipeline?.quietBefore?.waitedMs ?? null,
      afterTheLifecycleMs: r.pipeline?.quietAfter?.waitedMs ?? null,
      beforeTheDeliveryFloorMs: r.deliveryFloor?.quietBefore?.waitedMs ?? null,
      allQuiet: [
        r.floor?.quietBefore,
        r.pipeline?.quietBefore,
        r.pipeline?.quietAfter,
        r.deliveryFloor?.quietBefore,
      ].every((wait) => wait?.quiet === true),
    },
  };
}
