import { lifecycleSteady } from '../lifecycle';
import type { CpuReport } from '../cpu';
import {
  GOALS,
  PAYS_ONLY_WINDOW_S,
  PAYS_ONLY_WINDOWS,
  SCALE,
  scaled,
  SERVICE_POLL_SCHEDULE,
} from '../settings';
import { median } from '../stats';
import type { RowContext } from './context';
import { maxRateLifecycleWindow, measurePolledPayments, type FloorApply } from './pipeline';

/**
 * The whole lifecycle: at its max rate (inside issue 32's window: provider calls, the pipeline's
 * CPU, the broker's messages; the delivery floor beside it), the payments settled by polling, then
 * at a steady 200/s, and its pays only at 200/s.
 */
export async function measureLifecycle(rows: RowContext, floorApply?: FloorApply): Promise<void> {
  const { stack, m, result } = rows;
  const maxRate = await maxRateLifecycleWindow(rows, scaled(500), floorApply);
  await measurePolledPayments(rows);
  const steady = await m.measured('lifecycle at a steady 200/s (apply + pay)', 120_000, () =>
    lifecycleSteady(stack, 200, 10 * Math.min(1, SCALE)),
  );
  // Three windows, and the median of their p99s: one window's p99 moves with whatever else the
  // two cores did in those seconds. The pays start after the poller's first query (3 s) of every
  // attempt, and each is paid before its second (13 s): 1,200 made in about 4 s, paid in 6 s.
  const steadyPays: { value: Awaited<ReturnType<typeof lifecycleSteady>>; cpu: CpuReport }[] = [];
  for (let window = 1; window <= PAYS_ONLY_WINDOWS; window += 1)
    steadyPays.push(
      await m.measured(`lifecycle at a steady 200/s (pays only), window ${window}`, 120_000, () =>
        lifecycleSteady(stack, 200, PAYS_ONLY_WINDOW_S * Math.min(1, SCALE), {
          pollsDoneAfterMs: SERVICE_POLL_SCHEDULE[0]!,
          paidBeforeMs: SERVICE_POLL_SCHEDULE[0]! + SERVICE_POLL_SCHEDULE[1]!,
        }),
      ),
    );
  const paysOnlyP99s = steadyPays.map((run) => run.value.callbackToNotified.p99Ms);
  const measuredP99s = paysOnlyP99s.filter((p99): p99 is number => p99 !== null);
  // A window with no payment notified has no p99: then there is no median to judge either.
  const paysOnlyMedianP99 = measuredP99s.length === paysOnlyP99s.length ? median(measuredP99s) : null;
  m.perOperation('lifecycle at max rate (per payment notified)', maxRate.cpu, Number(maxRate.value.notified));
  m.perOperation(
    'lifecycle at a steady 200/s (per payment notified)',
    steady.cpu,
    Number(steady.value.notified),
  );
  result.lifecycle = {
    what: 'apply → pay at the sandbox → callback → settled → notifier → order service; callbackToNotified = from the pay call returning to the order service accepting the payment-result',
    maxRate: { ...maxRate.value, cpu: maxRate.cpu },
    steady200PerSecond: { ...steady.value, cpu: steady.cpu },
    steady200PerSecondPaysOnly: {
      windows: steadyPays.map((run) => ({ ...run.value, cpu: run.cpu })),
      callbackToNotifiedP99OfEachWindowMs: paysOnlyP99s,
      medianP99Ms: paysOnlyMedianP99,
    },
    goalCallbackToNotifiedP99Ms: GOALS.callbackToNotifiedP99Ms,
    meetsGoalAtSteady200:
      steady.value.callbackToNotified.p99Ms !== null &&
      steady.value.callbackToNotified.p99Ms < GOALS.callbackToNotifiedP99Ms,
    meetsGoalAtSteady200PaysOnly:
      paysOnlyMedianP99 !== null && paysOnlyMedianP99 < GOALS.callbackToNotifiedP99Ms,
  };
}
