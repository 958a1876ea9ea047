/** Where the local cluster keeps its nodes' files, and how its steps wait for a node. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLUSTER_DIR = process.env.CLUSTER_DIR ?? join(tmpdir(), 'payments-cluster');

/** Polls `check` every 250 ms until it gives a value; throws naming `what` past the timeout. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
