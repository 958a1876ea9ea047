import { closeOrders } from '../apply';
import { scaled } from '../settings';
import { doubleClickStorm } from '../storm';
import type { RowContext } from './context';

/** The double-click storm; its orders are closed afterwards, unmeasured. */
export async function measureStorm({ stack, m, result }: RowContext) {
  const { value: storm, cpu: stormCpu } = await m.measured('double-click storm', 150_000, () =>
    doubleClickStorm(stack, scaled(500), 10, 150),
  );
  result.doubleClickStorm = { ...storm.result, cpu: stormCpu };
  return m.phase('close the storm orders (unmeasured)', 90_000, () =>
    closeOrders(stack, storm.merchantOrderNos),
  );
}
