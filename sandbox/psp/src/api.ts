/** The PSP's API (CONTRACT 6), what our channel adapters call: trades and refunds, behind `Bearer <secret>`. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { draw, issuesOf } from '@payments/sandbox-kit';
import { httpStatus, refundView, sendError } from './answers';
import type { PspSandbox } from './sandbox';
import type { PspFailure } from './state';

const id = z.string().min(1).max(64);
const money = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const createTradeSchema = z.object({
  channelOrderNo: id,
  merchantOrderNo: id,
  channel: z.string().min(1),
  amount: money,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  subject: z.string().max(256),
  expireAt: z.iso.datetime({ offset: true }),
  notifyUrl: z.url({ protocol: /^https?$/ }),
});

const createRefundSchema = z.object({ refundNo: id, channelOrderNo: id, amount: money });

/** Compares hashes so the comparison takes the same time whatever the length of the guess. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function registerApi(app: FastifyInstance, sandbox: PspSandbox): void {
  const { state, faults, log } = sandbox;
  const fail = (reply: FastifyReply, failure: PspFailure) =>
    sendError(
      reply,
      httpStatus(failure.code),
      failure.code,
      failure.message,
      failure.trade ? { trade: sandbox.view(failure.trade) } : {},
    );
  const fault = (reply: FastifyReply, what: string) => {
    log.info({ outcome: 'fault', what }, 'sandbox fault injected');
    return sendError(reply, 500, 'SANDBOX_FAULT', `sandbox fault: ${what}`);
  };

  // A hidden trade (a loss made on purpose): its query and close answer as if it were never made.
  const hidden = (reply: FastifyReply, channelOrderNo: string) => {
    log.info({ channelOrderNo, outcome: 'hidden' }, 'hidden trade answered not found');
    return sendError(reply, 404, 'TRADE_NOT_FOUND', `no trade ${channelOrderNo}`);
  };

  app.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization ?? '';
      if (!sameSecret(header, `Bearer ${sandbox.secret}`)) {
        return sendError(reply, 401, 'UNAUTHORIZED', 'missing or wrong Authorization: Bearer <secret>');
      }
    });

    api.post('/api/trades', async (request, reply) => {
      if (faults.current.createLatencyMs > 0) await sleep(faults.current.createLatencyMs);
      if (draw(faults.current.createErrorRate)) return fault(reply, 'create');
      const parsed = createTradeSchema.safeParse(request.body);
      if (!parsed.success) return sendError(reply, 400, 'INVALID_REQUEST', issuesOf(parsed.error));
      const result = state.createTrade({ ...parsed.data, expireAt: Date.parse(parsed.data.expireAt) });
      if (!result.ok) return fail(reply, result);
      const { trade, created } = result;
      log.info(
        { channelOrderNo: trade.channelOrderNo, merchantOrderNo: trade.merchantOrderNo, created },
        'trade created',
      );
      return sandbox.view(trade);
    });

    api.get<{ Params: { channelOrderNo: string } }>('/api/trades/:channelOrderNo', async (request, reply) => {
      const { channelOrderNo } = request.params;
      sandbox.queries.set(channelOrderNo, (sandbox.queries.get(channelOrderNo) ?? 0) + 1);
      if (faults.current.queryLatencyMs > 0) await sleep(faults.current.queryLatencyMs);
      if (draw(faults.current.queryErrorRate)) return fault(reply, 'query');
      const result = state.getTrade(request.params.channelOrderNo);
      if (result.ok && sandbox.isHidden(result.trade)) return hidden(reply, channelOrderNo);
      return result.ok ? sandbox.view(result.trade) : fail(reply, result);
    });

    api.post<{ Params: { channelOrderNo: string } }>(
      '/api/trades/:channelOrderNo/close',
      async (request, reply) => {
        if (faults.current.closeLatencyMs > 0) await sleep(faults.current.closeLatencyMs);
        if (draw(faults.current.closeErrorRate)) return fault(reply, 'close');
        const found = state.getTrade(request.params.channelOrderNo);
        if (found.ok && sandbox.isHidden(found.trade)) return hidden(reply, request.params.channelOrderNo);
        const result = state.closeTrade(request.params.channelOrderNo);
        log.info(
          { channelOrderNo: request.params.channelOrderNo, outcome: result.ok ? 'closed' : result.code },
          'close',
        );
        return result.ok ? sandbox.view(result.trade) : fail(reply, result);
      },
    );

    api.post('/api/refunds', async (request, reply) => {
      if (draw(faults.current.refundErrorRate)) return fault(reply, 'refund');
      const parsed = createRefundSchema.safeParse(request.body);
      if (!parsed.success) return sendError(reply, 400, 'INVALID_REQUEST', issuesOf(parsed.error));
      const result = state.createRefund(parsed.data, sandbox.now());
      if (!result.ok) return fail(reply, result);
      const { refund, created } = result;
      if (created) sandbox.settleRefundLater(refund.refundNo);
      log.info(
        { refundNo: refund.refundNo, channelOrderNo: refund.channelOrderNo, created },
        'refund accepted',
      );
      return refundView(refund);
    });

    api.get<{ Params: { refundNo: string } }>('/api/refunds/:refundNo', async (request, reply) => {
      const result = state.getRefund(request.params.refundNo);
      return result.ok ? refundView(result.refund) : fail(reply, result);
    });
  });
}
