import { droppedCallbackToPaid, pollerThroughput } from '../poller';
import { GOALS, POLLER_PHASE_SCHEDULE, scaled } from '../settings';
import type { RowContext } from './context';

/** The poller, on a short schedule of its own: a dropped callback paid by polling, and its throughput. */
export async function measurePoller({ stack, m, result }: RowContext): Promise<void> {
  await m.phase('replace the poller with one on a short schedule', 60_000, async () => {
    await stack.stopService(stack.service('poller'));
    await stack.spawn('poller', { POLL_SCHEDULE: POLLER_PHASE_SCHEDULE });
  });
  const dropped = await m.phase('dropped callback → PAID by polling', 60_000, () =>
    droppedCallbackToPaid(stack, 5, POLLER_PHASE_SCHEDULE),
  );
  const pollRate = await m.phase('poller throughput', 120_000, () =>
    pollerThroughput(stack, scaled(2000), 12_000, m.cpuGroups, POLLER_PHASE_SCHEDULE),
  );
  result.poller = {
    throughput: pollRate,
    droppedCallbackToPaid: {
      ...dropped,
      goalExcessMs: GOALS.droppedCallbackExcessMs,
      meetsGoal:
        dropped.maxExcessOverFirstStepMs !== null &&
        dropped.maxExcessOverFirstStepMs < GOALS.droppedCallbackExcessMs,
    },
  };
}
