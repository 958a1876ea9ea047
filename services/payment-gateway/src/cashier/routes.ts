/**
 * The cashier's routes (CONTRACT 10). `POST /v1/checkout` is the merchant's (API key, registered
 * with the merchant routes); everything under `/cashier/` takes the token in its path and nothing
 * else, answers with a restrictive Content-Security-Policy, and is never framed or cached.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { ApiError } from '@payments/common';
import { CASHIER_ASSETS } from '../assets';
import type { GatewayDeps } from '../deps';
import { toApiError } from '../http/errors';
import { lookUpCashier, payAtCashier, type CashierLookup } from './checkout';
import { cashierPage, goneCashierPage } from './page';
import { tokenHint } from './tokens';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
/** How often an open page's stream looks at its order; an expiry shows within this (and CONTRACT's 5 s). */
const LIVE_CHECK_MS = 1000;
const KEEPALIVE_MS = 15_000;
/** A stream ends after this; the page reconnects (EventSource does so by itself). */
const STREAM_MAX_MS = 10 * 60_000;

const payBody = z.strictObject({ channel: z.string().min(1).max(32) });

export function registerCashier(app: FastifyInstance, deps: GatewayDeps): void {
  // Open streams end when the gateway stops, so its graceful stop never waits on a browser.
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
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

    const page = async (token: string, reply: FastifyReply, isReturn: boolean) => {
      const lookup = await lookUpCashier(deps, token);
      reply.type('text/html; charset=utf-8');
      if (!lookup.found) return reply.code(lookup.status).send(goneCashierPage(lookup.status));
      return reply.send(cashierPage(lookup.state, `/cashier/${token}`, isReturn));
    };
    cashier.get<{ Params: { token: string } }>('/cashier/:token', async (request, reply) =>
      page(request.params.token, reply, false),
    );
    // Where Alipay page pay and Stripe Checkout send the shopper back: a hint, never proof of payment.
    cashier.get<{ Params: { token: string } }>('/cashier/:token/return', async (request, reply) =>
      page(request.params.token, reply, true),
    );

    const found = async (
      token: string,
      reply: FastifyReply,
    ): Promise<Extract<CashierLookup, { found: true }> | undefined> => {
      const lookup = await lookUpCashier(deps, token);
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
        return await payAtCashier(deps, request.params.token, lookup, parsed.data.channel);
      } catch (error) {
        const apiError = toApiError(error);
        if (apiError.status >= 500)
          deps.log.warn(
            { token: tokenHint(request.params.token), err: apiError.message },
            'cashier apply failed',
          );
        // The answer carries the order as it is now, so the page shows "already paid" at once.
        const now = await lookUpCashier(deps, request.params.token);
        return reply
          .code(apiError.status)
          .send({ ...apiError.toBody(), state: now.found ? now.state : null });
      }
    });

    // Live status by server-sent events: whichever instance the browser reached reads the order
    // from the database, so any number of gateways serve it alike.
    cashier.get<{ Params: { token: string } }>('/cashier/:token/events', async (request, reply) => {
      const lookup = await found(request.params.token, reply);
      if (!lookup) return reply;
      reply.hijack();
      reply.raw.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let last = '';
      let closed = false;
      const send = (text: string) => {
        if (!closed) reply.raw.write(text);
      };
      const push = async () => {
        const now = await lookUpCashier(deps, request.params.token).catch(() => undefined);
        if (!now?.found) return;
        const json = JSON.stringify(now.state);
        if (json !== last) send(`data: ${json}\n\n`);
        last = json;
      };
      send('retry: 2000\n\n');
      await push();
      const check = setInterval(() => void push(), LIVE_CHECK_MS);
      const keepalive = setInterval(() => send(': keepalive\n\n'), KEEPALIVE_MS);
      const end = () => {
        if (closed) return;
        closed = true;
        streams.delete(end);
        clearInterval(check);
        clearInterval(keepalive);
        clearTimeout(limit);
        reply.raw.end();
      };
      const limit = setTimeout(end, STREAM_MAX_MS);
      streams.add(end);
      request.raw.on('close', end);
    });
  });
}
