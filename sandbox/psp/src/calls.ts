/**
 * The calls our side made to the PSP, counted where they arrive (issue 32.1): every request to a
 * provider route (create, query, close, refund, refund query, statement download) by kind, and per
 * trade, with how many of its queries came up to the first one that answered it paid. Counted in
 * `onSend`, so each answered request once, whatever it was answered (401 and faults included).
 * `GET /sandbox/calls` shows the counts (`?trades=1` adds each trade's), `DELETE /sandbox/calls`
 * starts them again. For the bench and tests: nothing of the PSP's behaviour depends on it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PspState } from './state';

export const CALL_KINDS = ['create', 'query', 'close', 'refund', 'refundQuery', 'statement'] as const;
export type CallKind = (typeof CALL_KINDS)[number];

/** The provider's routes (as fastify names them) and the kind of call each is. */
const ROUTES: Record<string, CallKind> = {
  'POST /api/trades': 'create',
  'GET /api/trades/:channelOrderNo': 'query',
  'POST /api/trades/:channelOrderNo/close': 'close',
  'POST /api/refunds': 'refund',
  'GET /api/refunds/:refundNo': 'refundQuery',
  'GET /sandbox/statements': 'statement',
};

export interface TradeCalls extends Record<Exclude<CallKind, 'statement'>, number> {
  /** Queries up to and including the first answered with the trade PAID; null while none was. */
  queriesUntilFoundPaid: number | null;
}

export class ProviderCalls {
  readonly totals: Record<CallKind | 'other', number> = this.zero();
  readonly byTrade = new Map<string, TradeCalls>();

  private zero(): Record<CallKind | 'other', number> {
    return { create: 0, query: 0, close: 0, refund: 0, refundQuery: 0, statement: 0, other: 0 };
  }

  /** One answered call of `kind`, of the trade `channelOrderNo` if known; `answeredPaid` for a query. */
  count(kind: CallKind | 'other', channelOrderNo: string | undefined, answeredPaid = false): void {
    this.totals[kind] += 1;
    if (channelOrderNo === undefined || kind === 'other' || kind === 'statement') return;
    let trade = this.byTrade.get(channelOrderNo);
    if (!trade) {
      trade = { create: 0, query: 0, close: 0, refund: 0, refundQuery: 0, queriesUntilFoundPaid: null };
      this.byTrade.set(channelOrderNo, trade);
    }
    trade[kind] += 1;
    if (kind === 'query' && answeredPaid && trade.queriesUntilFoundPaid === null)
      trade.queriesUntilFoundPaid = trade.query;
  }

  reset(): void {
    Object.assign(this.totals, this.zero());
    this.byTrade.clear();
  }
}

const field = (body: unknown, name: string): string | undefined => {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
};

/** The trade a call is about: from its path, its body, or (a refund's query) the refund it names. */
function tradeOf(kind: CallKind, request: FastifyRequest, state: PspState): string | undefined {
  const params = request.params as Record<string, string | undefined>;
  switch (kind) {
    case 'query':
    case 'close':
      return params.channelOrderNo;
    case 'create':
    case 'refund':
      return field(request.body, 'channelOrderNo');
    case 'refundQuery': {
      const found = params.refundNo === undefined ? undefined : state.getRefund(params.refundNo);
      return found?.ok ? found.refund.channelOrderNo : undefined;
    }
    default:
      return undefined;
  }
}

/** Counts every call to a provider route of `app`, and serves the counts on the control API. */
export function registerCallCounter(app: FastifyInstance, state: PspState): ProviderCalls {
  const calls = new ProviderCalls();
  app.addHook('onSend', async (request, reply, payload) => {
    const route = request.routeOptions.url;
    const kind: CallKind | 'other' | undefined =
      route === undefined
        ? request.url.startsWith('/api/')
          ? 'other'
          : undefined
        : (ROUTES[`${request.method} ${route}`] ?? (route.startsWith('/api/') ? 'other' : undefined));
    if (kind === undefined) return payload;
    const answeredPaid =
      kind === 'query' &&
      reply.statusCode === 200 &&
      typeof payload === 'string' &&
      payload.includes('"status":"PAID"');
    calls.count(kind, kind === 'other' ? undefined : tradeOf(kind, request, state), answeredPaid);
    return payload;
  });
  app.get<{ Querystring: { trades?: string } }>('/sandbox/calls', async (request) => ({
    totals: calls.totals,
    trades: calls.byTrade.size,
    ...(request.query.trades ? { byTrade: Object.fromEntries(calls.byTrade) } : {}),
  }));
  app.delete('/sandbox/calls', async () => {
    calls.reset();
    return { reset: true };
  });
  return calls;
}
