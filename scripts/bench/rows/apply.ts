import { applyOverAmqp, applyOverHttp, closeOrders } from '../apply';
import { applyBesideCashierStreams } from '../cashier-streams';
import type { CpuReport } from '../cpu';
import { msPer, ratioOf } from '../measure';
import { CASHIER_STREAMS, GOALS, scaled } from '../settings';
import { round } from '../stats';
import { lifecycleMaxRate } from '../lifecycle';
import { BrokerStats } from '../broker';
import { waitQuiet } from '../quiet';
import type { RowContext } from './context';
import type { FloorApply } from './pipeline';

export type HttpApplies = Awaited<ReturnType<typeof applyOverHttp>>;

/** Warm-up (JIT, pools, breaker windows): not measured. */
export async function warmUp({ stack, m }: RowContext): Promise<void> {
  await m.phase('warm-up', 60_000, async () => {
    const http = await applyOverHttp(stack, scaled(200), 16, 'warm');
    const amqp = await applyOverAmqp(stack, scaled(100), 16, 'warmq');
    await closeOrders(stack, [...http.merchantOrderNos, ...amqp.merchantOrderNos]);
    // The paying half too: callbacks, settlement, the notifier and the order service.
    await lifecycleMaxRate(stack, scaled(200), 16);
  });
}

/** Apply over HTTP; its orders are closed afterwards, unmeasured. */
export async function measureApplyHttp({ stack, m, result }: RowContext, rawDbPerSecond: number) {
  const { value: applyHttp, cpu: applyHttpCpu } = await m.measured('apply over HTTP', 90_000, () =>
    applyOverHttp(stack, scaled(1000), 64, 'http'),
  );
  result.applyHttp = {
    ...applyHttp.figures,
    cpu: applyHttpCpu,
    rawDbTransactionsPerSecond: rawDbPerSecond,
    ratioToRawDb: round(applyHttp.perSecond / rawDbPerSecond, 3),
    goalRatio: GOALS.applyRatioToRawDb,
    meetsGoal: applyHttp.perSecond / rawDbPerSecond >= GOALS.applyRatioToRawDb,
  };
  m.perOperation('apply over HTTP (per apply)', applyHttpCpu, Number(applyHttp.figures.created201));
  const closed = await m.phase('close the HTTP phase orders (unmeasured)', 90_000, () =>
    closeOrders(stack, applyHttp.merchantOrderNos),
  );
  return { applyHttp, applyHttpCpu, closed };
}

/**
 * The floor, beside it: the least a gateway can do with the same guards (a fastify route, the
 * Redis lock, a transaction of three inserts, one keep-alive call to a provider stub, a
 * transaction of an update and an outbox insert), under the same 64 clients.
 */
export async function measureFloor(
  { stack, m, result }: RowContext,
  applyHttp: HttpApplies,
  applyHttpCpu: CpuReport,
): Promise<FloorApply> {
  // Only once the services are done with the phases before (their attempts' polls, the closes'
  // events, the poll steps parked in the delay tiers), which would cost the floor's servers CPU too
  // (issue 32.5). The floor starts and warms meanwhile (it uses none of the services).
  const [floor, quietBefore] = await Promise.all([
    m.phase('start the floor gateway and its provider stub', 60_000, async () => {
      const started = await stack.startFloor();
      // Warmed like ours was (JIT, pools): not measured.
      await applyOverHttp(stack, scaled(200), 16, 'floorwarm', 'sandbox-wallet', started.url);
      return started;
    }),
    m.phase('wait until the services are quiet (before the floor)', 40_000, () =>
      waitQuiet(stack, m, new BrokerStats(stack.env.config.AMQP_URL, stack.prefix), {
        maxMs: 25_000,
        delayTiersEmpty: true,
      }),
    ),
  ]);
  m.floor = floor;
  const { value: floorApply, cpu: floorCpu } = await m.measured('floor: apply over HTTP', 90_000, () =>
    applyOverHttp(stack, scaled(1000), 64, 'floor', 'sandbox-wallet', floor.url),
  );
  const floorCreated = Number(floorApply.figures.created201);
  const ourCreated = Number(applyHttp.figures.created201);
  result.floor = {
    ...floorApply.figures,
    cpu: floorCpu,
    gatewayCpuMsPerApply: msPer(floorCpu, 'floorGateway', floorCreated),
    mariadbCpuMsPerApply: msPer(floorCpu, 'mariadb', floorCreated),
    redisCpuMsPerApply: msPer(floorCpu, 'redis', floorCreated),
    providerStubCpuMsPerApply: msPer(floorCpu, 'floorStub', floorCreated),
    ours: {
      gatewayCpuMsPerApply: msPer(applyHttpCpu, 'payment-gateway', ourCreated),
      mariadbCpuMsPerApply: msPer(applyHttpCpu, 'mariadb', ourCreated),
      rabbitmqCpuMsPerApply: msPer(applyHttpCpu, 'rabbitmq', ourCreated),
      pollerCpuMsPerApply: msPer(applyHttpCpu, 'poller', ourCreated),
    },
    ratios: {
      gatewayCpuToFloor: ratioOf(
        msPer(applyHttpCpu, 'payment-gateway', ourCreated),
        msPer(floorCpu, 'floorGateway', floorCreated),
      ),
      mariadbCpuToFloor: ratioOf(
        msPer(applyHttpCpu, 'mariadb', ourCreated),
        msPer(floorCpu, 'mariadb', floorCreated),
      ),
      appliesPerSecondToFloor: round(applyHttp.perSecond / floorApply.perSecond, 3),
    },
    goals: { gatewayCpuToFloor: 1.3, mariadbCpuToFloor: 1.3, appliesPerSecondToFloor: 0.6 },
    quietBefore,
    note: 'measured in the same run as "apply over HTTP", after the apply rows and the wait until the services were quiet (quietBefore); the floor writes its outbox rows as sent, so no relay publishes them',
  };
  m.perOperation('floor: apply over HTTP (per apply)', floorCpu, floorCreated);
  return { cpu: floorCpu, created: floorCreated };
}

/** Apply over AMQP; its orders are closed afterwards, unmeasured. */
export async function measureApplyAmqp({ stack, m, result }: RowContext, rawDbPerSecond: number) {
  const { value: applyAmqp, cpu: applyAmqpCpu } = await m.measured('apply over AMQP', 90_000, () =>
    applyOverAmqp(stack, scaled(1000), 64, 'amqp'),
  );
  result.applyAmqp = {
    ...applyAmqp.figures,
    cpu: applyAmqpCpu,
    rawDbTransactionsPerSecond: rawDbPerSecond,
    ratioToRawDb: round(applyAmqp.perSecond / rawDbPerSecond, 3),
    goalRatio: GOALS.applyRatioToRawDb,
    meetsGoal: applyAmqp.perSecond / rawDbPerSecond >= GOALS.applyRatioToRawDb,
  };
  m.perOperation('apply over AMQP (per apply)', applyAmqpCpu, Number(applyAmqp.figures.created201));
  return m.phase('close the AMQP phase orders (unmeasured)', 90_000, () =>
    closeOrders(stack, applyAmqp.merchantOrderNos),
  );
}

/** Applies beside open cashier pages (issue 27.4): the same load without and with the streams. */
export async function measureCashierRow({ stack, m, result }: RowContext): Promise<void> {
  if (!(CASHIER_STREAMS > 0)) return;
  const { value: cashier, cpu: cashierCpu } = await m.measured(
    `apply over HTTP beside ${CASHIER_STREAMS} cashier streams`,
    120_000,
    () => applyBesideCashierStreams(stack, CASHIER_STREAMS, scaled(1000)),
  );
  const { merchantOrderNos, ...figures } = cashier;
  result.applyBesideCashierStreams = { ...figures, cpu: cashierCpu };
  await m.phase('close the cashier row orders (unmeasured)', 90_000, () =>
    closeOrders(stack, merchantOrderNos),
  );
}
