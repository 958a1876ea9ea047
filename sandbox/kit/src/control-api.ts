/**
 * The sandbox control API of CONTRACT 6, the same on every sandbox: it stands for the shopper
 * (pay) and the test harness (faults, ledger, state). No auth: a sandbox is never exposed.
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { Logger } from '@payments/platform';
import { faultsPatchSchema, NO_FAULTS, type Faults } from './faults';
import { HiddenTrades } from './hidden';
import type { Ledger, LedgerFilter } from './ledger';

/** An answer of the control API: `200` with the trade, `404` unknown, `409` closed or expired. */
export interface ControlAnswer {
  status: number;
  body: unknown;
}

export interface ControlledSandbox {
  /** The shopper pays the trade our out-trade-no names (scanning or opening it first if need be). */
  pay(channelOrderNo: string): ControlAnswer;
  ledger(filter: LedgerFilter): Ledger;
  /** Forgets every trade and refund, and cancels pending notifications and timers. */
  clear(): void;
}

/** The faults a sandbox is under; the control API replaces them, the sandbox reads them. */
export class FaultBox {
  current: Faults = { ...NO_FAULTS };
  /** Trades the sandbox's API and notifications have lost sight of (only where the sandbox honours them). */
  readonly hidden = new HiddenTrades();
}

/** A refused request body's problems, one line: `field: problem; …`. */
export function issuesOf(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

export function controlError(code: string, message: string) {
  return { error: { code, message } };
}

export function registerControlApi(
  app: FastifyInstance,
  sandbox: ControlledSandbox,
  faults: FaultBox,
  log: Logger,
): void {
  app.post<{ Params: { channelOrderNo: string } }>(
    '/sandbox/trades/:channelOrderNo/pay',
    async (request, reply) => {
      const answer = sandbox.pay(request.params.channelOrderNo);
      log.info({ channelOrderNo: request.params.channelOrderNo, status: answer.status }, 'pay');
      return reply.code(answer.status).send(answer.body);
    },
  );

  app.get('/sandbox/faults', async () => faults.current);
  app.put('/sandbox/faults', async (request, reply) => {
    // A sandbox that keeps JSON bodies as text (to check signatures over them) hands them over unparsed.
    let body: unknown = request.body ?? {};
    try {
      if (typeof body === 'string') body = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      return reply.code(400).send(controlError('INVALID_REQUEST', 'body is not JSON'));
    }
    const parsed = faultsPatchSchema.safeParse(body);
    if (!parsed.success) return reply.code(400).send(controlError('INVALID_REQUEST', issuesOf(parsed.error)));
    faults.current = { ...faults.current, ...parsed.data };
    log.info({ faults: faults.current }, 'faults set');
    return faults.current;
  });
  app.delete('/sandbox/faults', async () => {
    faults.current = { ...NO_FAULTS };
    faults.hidden.clear();
    log.info('faults reset');
    return faults.current;
  });

  app.get<{ Querystring: { merchantOrderNo?: string; channelOrderNo?: string } }>(
    '/sandbox/ledger',
    async (request) =>
      sandbox.ledger({
        merchantOrderNo: request.query.merchantOrderNo || undefined,
        channelOrderNos:
          request.query.channelOrderNo === undefined ? undefined : request.query.channelOrderNo.split(','),
      }),
  );

  app.delete('/sandbox/state', async () => {
    sandbox.clear();
    log.info('state cleared');
    return { cleared: true };
  });
}
