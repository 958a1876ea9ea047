/**
 * The sandbox PSP over HTTP (CONTRACT 6): the provider API our adapters call (Bearer secret), and
 * the test control API (no auth) that pays trades, injects faults and shows the ledger.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { createLogger, errorMessage, type Logger } from '@payments/common';
import {
  draw,
  FaultBox,
  firstSendDelayMs,
  inLedger,
  issuesOf,
  registerControlApi,
} from '@payments/sandbox-kit';
import { NotifySender } from './notify-sender';
import { errorPage, tradePage } from './pages';
import { PspState, tradeStatus, type PspErrorCode, type PspFailure, type Refund, type Trade } from './state';

export interface PspServerOptions {
  secret: string;
  log?: Logger;
  /** How long a new refund stays PROCESSING. */
  refundDelayMs?: number;
  /** Where a shopper's browser reaches this sandbox (pay pages); default: the Host its API was first called on. */
  publicUrl?: string;
  /** Clock for expiry, paidAt and createdAt (ms); notify signatures always use the real clock. */
  now?: () => number;
}

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

type ErrorCode =
  PspErrorCode | 'UNAUTHORIZED' | 'INVALID_REQUEST' | 'SANDBOX_FAULT' | 'NOT_FOUND' | 'INTERNAL';

function httpStatus(code: PspErrorCode): number {
  switch (code) {
    case 'UNKNOWN_CHANNEL':
      return 400;
    case 'TRADE_NOT_FOUND':
    case 'REFUND_NOT_FOUND':
      return 404;
    case 'CLOSE_NOT_SUPPORTED':
      return 422;
    case 'TRADE_CONFLICT':
    case 'TRADE_PAID':
    case 'TRADE_CLOSED':
    case 'TRADE_EXPIRED':
    case 'ALREADY_PAID':
    case 'REFUND_CONFLICT':
    case 'TRADE_NOT_PAID':
    case 'REFUND_EXCEEDS_AMOUNT':
      return 409;
    default: {
      const unknown: never = code;
      throw new Error(`unmapped error code ${String(unknown)}`);
    }
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function tradeView(trade: Trade, now: number, base: string) {
  return {
    channelOrderNo: trade.channelOrderNo,
    tradeNo: trade.tradeNo,
    merchantOrderNo: trade.merchantOrderNo,
    channel: trade.channel,
    amount: trade.amount,
    currency: trade.currency,
    status: tradeStatus(trade, now),
    payUrl: `${base}${trade.payPath}`,
    paidAt: iso(trade.paidAt),
    expireAt: iso(trade.expireAt),
  };
}

function refundView(refund: Refund) {
  return {
    refundNo: refund.refundNo,
    channelOrderNo: refund.channelOrderNo,
    amount: refund.amount,
    status: refund.status,
    createdAt: iso(refund.createdAt),
  };
}

function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  extra: object = {},
) {
  return reply.code(status).send({ error: { code, message }, ...extra });
}

/** Compares hashes so the comparison takes the same time whatever the length of the guess. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function buildPspServer(options: PspServerOptions): FastifyInstance {
  const log = options.log ?? createLogger('sandbox-psp', 'silent');
  const now = options.now ?? Date.now;
  const refundDelayMs = options.refundDelayMs ?? 200;
  const state = new PspState();
  const sender = new NotifySender({ secret: options.secret, log });
  const refundTimers = new Set<NodeJS.Timeout>();
  const faults = new FaultBox();
  /** Status queries received per trade, answered or not: the ledger shows them, so a test can see a poll step made twice. */
  const queries = new Map<string, number>();

  const app = Fastify({ logger: false });
  // Where a shopper's browser reaches this sandbox: told, or the Host its API was first called on.
  let publicBase = options.publicUrl;
  app.addHook('onRequest', async (request) => {
    publicBase ??= `http://${request.headers.host}`;
  });
  const view = (trade: Trade) => tradeView(trade, now(), publicBase ?? '');

  // Tests and the demo often send `content-type: application/json` with no body on POSTs
  // (pay, close); treat that as no body instead of a 400.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // The shopper's pay page posts a form with nothing in it.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    return jsonParser(request, text, done);
  });

  app.setErrorHandler<FastifyError>((error, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) return sendError(reply, status, 'INVALID_REQUEST', error.message);
    log.error({ err: errorMessage(error), method: request.method, url: request.url }, 'request failed');
    return sendError(reply, 500, 'INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url}`),
  );

  const fail = (reply: FastifyReply, failure: PspFailure) =>
    sendError(
      reply,
      httpStatus(failure.code),
      failure.code,
      failure.message,
      failure.trade ? { trade: view(failure.trade) } : {},
    );
  const fault = (reply: FastifyReply, what: string) => {
    log.info({ outcome: 'fault', what }, 'sandbox fault injected');
    return sendError(reply, 500, 'SANDBOX_FAULT', `sandbox fault: ${what}`);
  };

  function notifyPaid(trade: Trade): void {
    const notifyId = `ntf_${randomBytes(8).toString('hex')}`;
    const ids = { notifyId, channelOrderNo: trade.channelOrderNo, merchantOrderNo: trade.merchantOrderNo };
    if (draw(faults.current.dropNotifyRate)) {
      log.info({ ...ids, outcome: 'dropped' }, 'notify dropped by fault');
      return;
    }
    const body = {
      notifyId,
      channelOrderNo: trade.channelOrderNo,
      tradeNo: trade.tradeNo,
      merchantOrderNo: trade.merchantOrderNo,
      channel: trade.channel,
      amount: trade.amount,
      currency: trade.currency,
      status: 'PAID',
      paidAt: iso(trade.paidAt),
    };
    // A duplicate is the same notification (same notifyId) delivered again, as real providers do.
    const copies = faults.current.duplicateNotifies ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1)
      sender.send(trade.notifyUrl, notifyId, body, firstSendDelayMs(faults.current));
  }

  function settleRefundLater(refundNo: string): void {
    const outcome = draw(faults.current.refundFailRate) ? 'FAILED' : 'SUCCESS';
    const timer = setTimeout(() => {
      refundTimers.delete(timer);
      const refund = state.settleRefund(refundNo, outcome);
      if (refund) log.info({ refundNo, channelOrderNo: refund.channelOrderNo, outcome }, 'refund settled');
    }, refundDelayMs);
    refundTimers.add(timer);
  }

  function cancelTimers(): void {
    sender.cancelAll();
    for (const timer of refundTimers) clearTimeout(timer);
    refundTimers.clear();
  }

  app.addHook('onClose', async () => cancelTimers());

  app.get('/healthz', async () => ({ status: 'ok' }));

  // Provider API: what our channel adapters call.
  app.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization ?? '';
      if (!sameSecret(header, `Bearer ${options.secret}`)) {
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
      return view(trade);
    });

    api.get<{ Params: { channelOrderNo: string } }>('/api/trades/:channelOrderNo', async (request, reply) => {
      const { channelOrderNo } = request.params;
      queries.set(channelOrderNo, (queries.get(channelOrderNo) ?? 0) + 1);
      if (faults.current.queryLatencyMs > 0) await sleep(faults.current.queryLatencyMs);
      if (draw(faults.current.queryErrorRate)) return fault(reply, 'query');
      const result = state.getTrade(request.params.channelOrderNo);
      return result.ok ? view(result.trade) : fail(reply, result);
    });

    api.post<{ Params: { channelOrderNo: string } }>(
      '/api/trades/:channelOrderNo/close',
      async (request, reply) => {
        if (faults.current.closeLatencyMs > 0) await sleep(faults.current.closeLatencyMs);
        if (draw(faults.current.closeErrorRate)) return fault(reply, 'close');
        const result = state.closeTrade(request.params.channelOrderNo);
        log.info(
          { channelOrderNo: request.params.channelOrderNo, outcome: result.ok ? 'closed' : result.code },
          'close',
        );
        return result.ok ? view(result.trade) : fail(reply, result);
      },
    );

    api.post('/api/refunds', async (request, reply) => {
      if (draw(faults.current.refundErrorRate)) return fault(reply, 'refund');
      const parsed = createRefundSchema.safeParse(request.body);
      if (!parsed.success) return sendError(reply, 400, 'INVALID_REQUEST', issuesOf(parsed.error));
      const result = state.createRefund(parsed.data, now());
      if (!result.ok) return fail(reply, result);
      const { refund, created } = result;
      if (created) settleRefundLater(refund.refundNo);
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

  /** The shopper pays (on the page, or through the control API). */
  function pay(channelOrderNo: string) {
    const result = state.payTrade(channelOrderNo, now());
    if (result.ok) notifyPaid(result.trade);
    return result;
  }

  // The shopper's page: what the wallet's pay URL opens and the QR code's content points at.
  app.get<{ Params: { channelOrderNo: string } }>('/pay/:channelOrderNo', async (request, reply) => {
    const result = state.getTrade(request.params.channelOrderNo);
    reply.type('text/html; charset=utf-8');
    if (!result.ok) return reply.code(404).send(errorPage(result.message));
    return reply.send(tradePage(result.trade, tradeStatus(result.trade, now())));
  });
  app.post<{ Params: { channelOrderNo: string } }>('/pay/:channelOrderNo', async (request, reply) => {
    const result = pay(request.params.channelOrderNo);
    reply.type('text/html; charset=utf-8');
    if (!result.ok && !result.trade) return reply.code(404).send(errorPage(result.message));
    const trade = result.ok ? result.trade : result.trade!;
    return reply.code(result.ok ? 200 : 409).send(tradePage(trade, tradeStatus(trade, now())));
  });

  // Test control API (the kit's): no auth, it stands for the shopper and the test harness.
  registerControlApi(
    app,
    {
      pay(channelOrderNo) {
        const result = pay(channelOrderNo);
        if (!result.ok)
          return {
            status: httpStatus(result.code),
            body: {
              error: { code: result.code, message: result.message },
              ...(result.trade ? { trade: view(result.trade) } : {}),
            },
          };
        return { status: 200, body: view(result.trade) };
      },
      ledger(filter) {
        const at = now();
        const { trades: all, refunds: allRefunds } = state.ledger(filter.merchantOrderNo);
        const trades = all.filter((trade) => inLedger(filter, trade));
        const numbers = new Set(trades.map((trade) => trade.channelOrderNo));
        const refunds = allRefunds.filter((refund) => numbers.has(refund.channelOrderNo));
        return {
          trades: trades.map((trade) => ({
            channelOrderNo: trade.channelOrderNo,
            merchantOrderNo: trade.merchantOrderNo,
            channel: trade.channel,
            amount: trade.amount,
            currency: trade.currency,
            status: tradeStatus(trade, at),
            paidAt: iso(trade.paidAt),
            queries: queries.get(trade.channelOrderNo) ?? 0,
          })),
          refunds: refunds.map((refund) => ({
            refundNo: refund.refundNo,
            channelOrderNo: refund.channelOrderNo,
            amount: refund.amount,
            status: refund.status,
          })),
        };
      },
      clear() {
        cancelTimers();
        state.clear();
      },
    },
    faults,
    log,
  );

  return app;
}
