/**
 * The PSP's statement (CONTRACT 11): `GET /sandbox/statements?date=YYYY-MM-DD` behind its Bearer
 * secret, like any provider API; its faults (`PUT|DELETE /sandbox/statement-faults`: not ready,
 * truncated, wrong hash) and a refund made at the sandbox's portal (`POST
 * /sandbox/trades/:channelOrderNo/portal-refund`: money returned that we never asked for) are
 * control routes, without auth.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { issuesOf } from '@payments/sandbox-kit';
import { httpStatus, refundView, sendError } from './answers';
import { sameSecret } from './api';
import type { PspSandbox } from './sandbox';
import { buildStatement, NO_STATEMENT_FAULTS, statementFaultsSchema, utcDay } from './statement';

const dateSchema = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD') });
const portalRefundSchema = z.object({ amount: z.number().int().positive().optional() }).strict();

export function registerStatements(app: FastifyInstance, sandbox: PspSandbox): void {
  const { state, log } = sandbox;
  app.get('/sandbox/statements', async (request, reply) => {
    if (!sameSecret(request.headers.authorization ?? '', `Bearer ${sandbox.secret}`))
      return sendError(reply, 401, 'UNAUTHORIZED', 'missing or wrong Authorization: Bearer <secret>');
    const parsed = dateSchema.safeParse(request.query);
    if (!parsed.success) return sendError(reply, 400, 'INVALID_REQUEST', issuesOf(parsed.error));
    const { date } = parsed.data;
    const faults = sandbox.statementFaults;
    // A day is ready once it has begun (the sandbox serves the day so far): a later one is not.
    if (faults.notReady || date > utcDay(sandbox.now()))
      return reply
        .code(409)
        .send({ error: { code: 'NOT_READY', message: `the statement of ${date} is not ready` } });
    const { trades, refunds } = state.ledger();
    const byNo = new Map(trades.map((trade) => [trade.channelOrderNo, trade]));
    const statement = buildStatement(date, trades, refunds, (no) => byNo.get(no));
    const body = faults.truncate
      ? statement.body.slice(0, Math.floor(statement.body.length / 2))
      : statement.body;
    const sha256 = faults.wrongHash ? '0'.repeat(64) : statement.sha256;
    log.info({ date, lines: statement.lines, faults }, 'statement served');
    return reply
      .header('content-type', 'application/x-ndjson')
      .header('x-statement-sha256', sha256)
      .send(body);
  });

  app.put('/sandbox/statement-faults', async (request, reply) => {
    let body: unknown = request.body ?? {};
    if (typeof body === 'string') body = body.trim() === '' ? {} : (JSON.parse(body) as unknown);
    const parsed = statementFaultsSchema.safeParse(body);
    if (!parsed.success) return sendError(reply, 400, 'INVALID_REQUEST', issuesOf(parsed.error));
    sandbox.statementFaults = { ...sandbox.statementFaults, ...parsed.data };
    return sandbox.statementFaults;
  });
  app.delete('/sandbox/statement-faults', async () => {
    sandbox.statementFaults = { ...NO_STATEMENT_FAULTS };
    return sandbox.statementFaults;
  });

  app.post<{ Params: { channelOrderNo: string } }>(
    '/sandbox/trades/:channelOrderNo/portal-refund',
    async (request, reply) => {
      let body: unknown = request.body ?? {};
      if (typeof body === 'string') body = body.trim() === '' ? {} : (JSON.parse(body) as unknown);
      const parsed = portalRefundSchema.safeParse(body);
      if (!parsed.success) return sendError(reply, 400, 'INVALID_REQUEST', issuesOf(parsed.error));
      const { channelOrderNo } = request.params;
      const trade = state.getTrade(channelOrderNo);
      if (!trade.ok) return sendError(reply, httpStatus(trade.code), trade.code, trade.message);
      const refundNo = `portal_${randomBytes(8).toString('hex')}`;
      const result = state.createRefund(
        { refundNo, channelOrderNo, amount: parsed.data.amount ?? trade.trade.amount },
        sandbox.now(),
      );
      if (!result.ok) return sendError(reply, httpStatus(result.code), result.code, result.message);
      // Made by a person at the portal: done at once, and no notification is sent to the merchant.
      const refund = state.settleRefund(refundNo, 'SUCCESS') ?? result.refund;
      log.info({ refundNo, channelOrderNo, amount: refund.amount }, 'portal refund made');
      return refundView(refund);
    },
  );
}
