/**
 * The cashier's routes (CONTRACT 10). `POST /v1/checkout` is the merchant's (API key, registered
 * with the merchant routes); everything under `/cashier/` takes the token in its path and nothing
 * else, answers with a restrictive Content-Security-Policy, and is never framed or cached.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from '@payments/core';
import { CASHIER_ASSETS } from '../assets';
import type { GatewayDeps } from '../deps';
import { toApiError } from '../http/errors';
import { cashierReads, lookUpCashier, lookUpReturn, payAtCashier, type CashierLookup } from './checkout';
import { pickLocale } from './locales';
import { cashierPage, goneCashierPage, returnPage } from './page';
import { cashierState } from './view';
import { tokenHint } from './tokens';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
const KEEPALIVE_MS = 15_000;
/** A stream ends after this; the page reconnects (EventSource does so by itself). */
const STREAM_MAX_MS = 10 * 60_000;
/** Past a bound, the page polls `/state` and asks for a stream again this much later. */
const STREAM_RETRY_AFTER_S = 30;

const payBody = z.strictObject({ channel: z.string().min(1).max(32) });

export function registerCashier(app: FastifyInstance, deps: GatewayDeps): void {
  // Every page, poll and stream on this gateway reads an order once however many watch it (27.4).
  const reads = cashierReads(deps);
  // Open streams end when the gateway stops, so its graceful stop never waits on a browser.
  const streams = new Set<() => void>();
  const streamsOfToken = new Map<string, number>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
    reads.orders.stop();
  });
  app.register(async (cashier) => {
    cashier.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(SECURITY_HEADERS);
      return payload;
    });

    cashier.get<{ Params: { name: string } }>('/cashier/assets/:name', async (request, reply) => {
      const asset = CASHIER_ASSETS.get(request.params.name);
      if (!asset) return reply.code(404).type('text/plain').send('not found');
      return reply.type(asset.type).send(asset.body);
    });

    /** A page's language: the merchant's choice, else the shopper's browser, else the order's currency. */
    const localeOf = (request: FastifyRequest, requested: string | null, currency?: string) =>
      pickLocale({ requested, acceptLanguage: request.headers['accept-language'], currency });
    const gonePage = (request: FastifyRequest, reply: FastifyReply, status: 404 | 410) =>
      reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(goneCashierPage(status, localeOf(request, null)));

    // Where Alipay page pay and Stripe Checkout send the shopper back: a hint, never proof of
    // payment. It names the pay order, not the token (it is stored with the attempt, 27.7), and
    // shows only the status and, once paid, the way back to the shop.
    cashier.get<{ Params: { payOrderNo: string } }>('/cashier/return/:payOrderNo', async (request, reply) => {
      const lookup = await lookUpReturn(reads, request.params.payOrderNo);
      if (!lookup.found) return gonePage(request, reply, lookup.status);
      const locale = localeOf(request, lookup.returnRow.locale);
      return reply
        .type('text/html; charset=utf-8')
        .send(returnPage(lookup.state, `/cashier/return/${lookup.state.payOrderNo}`, locale));
    });
    cashier.get<{ Params: { payOrderNo: string } }>(
      '/cashier/return/:payOrderNo/state',
      async (request, reply) => {
        const lookup = await lookUpReturn(reads, request.params.payOrderNo);
        if (lookup.found) return lookup.state;
        return reply.code(lookup.status).send({
          error: {
            code: lookup.status === 410 ? 'ORDER_CLOSED' : 'NOT_FOUND',
            message: 'no such payment page',
          },
        });
      },
    );

    const page = async (request: FastifyRequest, token: string, reply: FastifyReply, isReturn: boolean) => {
      const lookup = await lookUpCashier(deps, reads, token);
      if (!lookup.found) return gonePage(request, reply, lookup.status);
      const locale = localeOf(request, lookup.checkout.locale, lookup.state.currency);
      return reply
        .type('text/html; charset=utf-8')
        .send(cashierPage(lookup.state, `/cashier/${token}`, isReturn, locale));
    };
    cashier.get<{ Params: { token: string } }>('/cashier/:token', async (request, reply) =>
      page(request, request.params.token, reply, false),
    );
    // The return page of this tab's own cashier (the token-free one sends the shopper on here when
    // this tab came from the cashier), and of attempts made before return addresses named the order.
    cashier.get<{ Params: { token: string } }>('/cashier/:token/return', async (request, reply) =>
      page(request, request.params.token, reply, true),
    );

    const found = async (
      token: string,
      reply: FastifyReply,
    ): Promise<Extract<CashierLookup, { found: true }> | undefined> => {
      const lookup = await lookUpCashier(deps, reads, token);
      if (lookup.found) return lookup;
      await reply.code(lookup.status).send({
        error: {
          code: lookup.status === 410 ? 'ORDER_CLOSED' : 'NOT_FOUND',
          message: 'no such payment page',
        },
      });
      return undefined;
    };

    cashier.get<{ Params: { token: string } }>('/cashier/:token/state', async (request, reply) => {
      const lookup = await found(request.params.token, reply);
      return lookup ? lookup.state : reply;
    });

    cashier.post<{ Params: { token: string } }>('/cashier/:token/pay', async (request, reply) => {
      const lookup = await found(request.params.token, reply);
      if (!lookup) return reply;
      const parsed = payBody.safeParse(request.body ?? {});
      if (!parsed.success)
        throw new ApiError('VALIDATION_FAILED', 'body: must be { "channel": "<channel>" }');
      try {
        return await payAtCashier(deps, reads, request.params.token, lookup, parsed.data.channel);
      } catch (error) {
        const apiError = toApiError(error);
        if (apiError.status >= 500)
          deps.log.warn(
            { token: tokenHint(request.params.token), err: apiError.message },
            'cashier apply failed',
          );
        // The answer carries the order as it is now, so the page shows "already paid" at once.
        const now = await lookUpCashier(deps, reads, request.params.token, 0);
        return reply
          .code(apiError.status)
          .send({ ...apiError.toBody(), state: now.found ? now.state : null });
      }
    });

    // Live status by server-sent events: whichever instance the browser reached reads the order
    // from the database, so any number of gateways serve it alike. Bounded per gateway and per
    // token (past either: 429 TOO_MANY_STREAMS, and the page polls `/state`); every stream of an
    // order is fed by this gateway's one shared read of it.
    cashier.get<{ Params: { token: string } }>('/cashier/:token/events', async (request, reply) => {
      const token = request.params.token;
      const lookup = await found(token, reply);
      if (!lookup) return reply;
      const ofToken = streamsOfToken.get(token) ?? 0;
      const over =
        streams.size >= deps.config.CASHIER_STREAMS_MAX
          ? 'this gateway'
          : ofToken >= deps.config.CASHIER_STREAMS_PER_TOKEN
            ? 'this page'
            : undefined;
      if (over) {
        deps.metrics.cashierStreamsRefused.inc({ bound: over === 'this page' ? 'token' : 'gateway' });
        return reply
          .code(429)
          .header('retry-after', String(STREAM_RETRY_AFTER_S))
          .send({
            error: {
              code: 'TOO_MANY_STREAMS',
              message: `too many live streams open on ${over}; poll /state, or try again in ${STREAM_RETRY_AFTER_S} s`,
            },
          });
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let last = JSON.stringify(lookup.state);
      let closed = false;
      const send = (text: string) => {
        if (!closed) reply.raw.write(text);
      };
      send(`retry: 2000\n\ndata: ${last}\n\n`);
      const unwatch = reads.orders.watch(lookup.checkout.pay_order_id, (view) => {
        const json = JSON.stringify(cashierState(deps, lookup.checkout, view));
        if (json !== last) send(`data: ${json}\n\n`);
        last = json;
      });
      const keepalive = setInterval(() => send(': keepalive\n\n'), KEEPALIVE_MS);
      const end = () => {
        if (closed) return;
        closed = true;
        streams.delete(end);
        deps.metrics.cashierStreamsOpen.dec();
        const left = (streamsOfToken.get(token) ?? 1) - 1;
        if (left > 0) streamsOfToken.set(token, left);
        else streamsOfToken.delete(token);
        unwatch();
        clearInterval(keepalive);
        clearTimeout(limit);
        reply.raw.end();
      };
      const limit = setTimeout(end, STREAM_MAX_MS);
      streams.add(end);
      deps.metrics.cashierStreamsOpen.inc();
      streamsOfToken.set(token, ofToken + 1);
      request.raw.on('close', end);
    });
  });
}
