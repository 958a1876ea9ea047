/**
 * Provider calls per payment (issue 32.1), as the sandbox PSP counted them where they arrived
 * (`GET /sandbox/calls?trades=1`, sandbox/psp/src/calls.ts), not as our code counts its own.
 */
import { httpJson } from './http';
import { round } from './stats';

export const KINDS = ['create', 'query', 'close', 'refund', 'refundQuery'] as const;

interface TradeCalls extends Record<(typeof KINDS)[number], number> {
  queriesUntilFoundPaid: number | null;
}

export interface PspCalls {
  totals: Record<string, number>;
  trades: number;
  byTrade: Record<string, TradeCalls>;
}

export async function resetPspCalls(pspUrl: string): Promise<void> {
  const answer = await httpJson('DELETE', `${pspUrl}/sandbox/calls`);
  if (answer.status !== 200) throw new Error(`DELETE /sandbox/calls answered ${answer.status}`);
}

export async function readPspCalls(pspUrl: string): Promise<PspCalls> {
  const answer = await httpJson('GET', `${pspUrl}/sandbox/calls?trades=1`);
  if (answer.status !== 200) throw new Error(`GET /sandbox/calls answered ${answer.status}`);
  return answer.body as PspCalls;
}

/**
 * Calls per payment of `channelOrderNos` (the payments of one group), by kind; for the queries,
 * how many came up to the one that first found the trade paid and how many after it.
 * `expectedPerPayment` is the goal (1 for a payment settled by its notification: its create; for
 * one found by polling its create plus the queries up to the one that found it).
 */
export function callsPerPayment(calls: PspCalls, channelOrderNos: readonly string[]) {
  const sums: Record<string, number> = Object.fromEntries(KINDS.map((kind) => [kind, 0]));
  let queriesUntilFound = 0;
  let queriesAfterFound = 0;
  let foundByAQuery = 0;
  let withoutAnyCall = 0;
  const distribution: Record<string, number> = {};
  for (const no of channelOrderNos) {
    const trade = calls.byTrade[no];
    if (!trade) {
      withoutAnyCall += 1;
      continue;
    }
    let all = 0;
    for (const kind of KINDS) {
      sums[kind]! += trade[kind];
      all += trade[kind];
    }
    distribution[all] = (distribution[all] ?? 0) + 1;
    if (trade.queriesUntilFoundPaid !== null) {
      foundByAQuery += 1;
      queriesUntilFound += trade.queriesUntilFoundPaid;
      queriesAfterFound += trade.query - trade.queriesUntilFoundPaid;
    } else queriesUntilFound += trade.query;
  }
  const payments = channelOrderNos.length;
  const per = (n: number) => (payments > 0 ? round(n / payments, 3) : null);
  const total = KINDS.reduce((sum, kind) => sum + sums[kind]!, 0);
  return {
    payments,
    perPayment: {
      all: per(total),
      ...Object.fromEntries(KINDS.map((kind) => [kind, per(sums[kind]!)])),
      queriesUpToTheOneThatFoundItPaid: per(queriesUntilFound),
      queriesAfterItWasFoundPaid: per(queriesAfterFound),
    },
    paymentsOneOfWhoseQueriesFoundItPaid: foundByAQuery,
    paymentsWithoutAnyCall: withoutAnyCall,
    paymentsByCallCount: distribution,
  };
}
