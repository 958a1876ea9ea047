/**
 * A protocol-faithful Alipay on this machine (CONTRACT 9), for the official `alipay-sdk` unchanged:
 * - v3 API (`POST /v3/alipay/trade/{precreate,query,close,refund,fastpay/refund/query}`): the
 *   app's `authorization` signature verified, every answer signed (`alipay-signature`), Alipay's
 *   error codes with 4xx;
 * - page pay (`GET /gateway.do?method=alipay.trade.page.pay&…`, v2 signed): the cashier page the
 *   shopper pays on, back to `return_url` with signed parameters;
 * - the QR code's page (`/qr/<out_trade_no>`: opening it is scanning it);
 * - notifications: form POSTs signed RSA2, retried on Alipay's schedule until answered `success`;
 * - the sandbox control API of CONTRACT 6 (the kit's).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  createLogger,
  errorMessage,
  fromDecimalString,
  toDecimalString,
  type Logger,
} from '@payments/common';
import { chinaDateTime, parseChinaDateTime } from '@payments/providers';
import {
  controlError,
  draw,
  FaultBox,
  firstSendDelayMs,
  inLedger,
  issuesOf,
  keepRawBodies,
  NotifySender,
  registerControlApi,
  scaledSchedule,
  strangerKey,
  type Ledger,
} from '@payments/sandbox-kit';
import { errorPage, tradePage } from './pages';
import { signV2, signV3Response, verifyV2Request, verifyV3Request } from './signing';
import { AlipayState, type NewTrade, type Product, type Trade } from './state';

export interface AlipaySandboxOptions {
  appId: string;
  /** The app's public key: requests are verified with it. */
  appPublicKey: string;
  /** "Alipay's" private key: answers, notifications and returns are signed with it. */
  alipayPrivateKey: string;
  log?: Logger;
  /** Compresses Alipay's notification schedule (4m, 10m, 10m, 1h, 2h, 6h, 15h) for tests: 0.001 → 240 ms, … */
  notifyTimeScale?: number;
  /** Where a shopper's browser reaches this sandbox (QR codes point there); default: the Host the API was called on. */
  publicUrl?: string;
  now?: () => number;
}

/** Alipay's retries after the first notification: 8 sends within 25 hours, then it stops. */
const ALIPAY_NOTIFY_RETRIES_MS = [4, 10, 10, 60, 120, 360, 900].map((minutes) => minutes * 60_000);

const CNY = 'CNY';
const yuan = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,2})?$/, 'must be yuan with at most two decimals')
  .transform((text) => fromDecimalString(text, CNY))
  .refine((fen) => fen >= 1 && fen <= 10_000_000_000, 'must be between 0.01 and 100000000.00');
const outTradeNo = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-", at most 64');
const chinaTime = z.string().transform((text, ctx) => {
  try {
    return parseChinaDateTime(text).getTime();
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
const tradeFields = {
  out_trade_no: outTradeNo,
  total_amount: yuan,
  subject: z.string().min(1).max(256),
  time_expire: chinaTime.optional(),
  merchant_order_no: z.string().max(32).optional(),
};
const precreateBody = z.object({ ...tradeFields, notify_url: z.url().optional() });
const pageBizContent = z.object({ ...tradeFields, product_code: z.literal('FAST_INSTANT_TRADE_PAY') });
const byTrade = z.object({ out_trade_no: outTradeNo });
const refundBody = z.object({
  out_trade_no: outTradeNo,
  refund_amount: yuan,
  out_request_no: z.string().min(1).max(64),
  refund_reason: z.string().optional(),
});
const refundQueryBody = z.object({ out_trade_no: outTradeNo, out_request_no: z.string().min(1).max(64) });

/** A trade as precreate's body or page pay's biz_content describes it. */
function newTrade(
  fields: z.infer<z.ZodObject<typeof tradeFields>>,
  product: Product,
  notifyUrl: string | undefined,
  returnUrl: string | undefined,
): NewTrade {
  return {
    outTradeNo: fields.out_trade_no,
    product,
    merchantOrderNo: fields.merchant_order_no ?? null,
    amount: fields.total_amount,
    subject: fields.subject,
    timeExpire: fields.time_expire ?? null,
    notifyUrl: notifyUrl ?? null,
    returnUrl: returnUrl ?? null,
  };
}

export function buildAlipaySandbox(options: AlipaySandboxOptions): FastifyInstance {
  const log = options.log ?? createLogger('sandbox-alipay', 'silent');
  const now = options.now ?? Date.now;
  const state = new AlipayState();
  const faults = new FaultBox();
  const sender = new NotifySender({
    log,
    retryDelaysMs: scaledSchedule(ALIPAY_NOTIFY_RETRIES_MS, options.notifyTimeScale ?? 1),
    stopAfterSchedule: true,
    // Only these seven characters stop Alipay's retries; the HTTP status is not read.
    received: (_status, body) => body === 'success',
  });
  // Signs answers while the badResponseSignature fault is on: valid RSA2, but not Alipay's key.
  const stranger = strangerKey();

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  // Signatures cover the exact bytes: bodies stay strings until verified.
  keepRawBodies(app);

  /** A v3 answer, signed (or signed wrongly under the fault). */
  function answer(reply: FastifyReply, status: number, body: object) {
    const text = JSON.stringify(body);
    const key = faults.current.badResponseSignature ? stranger() : options.alipayPrivateKey;
    return reply.code(status).headers(signV3Response(text, key)).type('application/json').send(text);
  }
  const refuse = (reply: FastifyReply, failure: { code: string; message: string }, status = 400) =>
    answer(reply, status, { code: failure.code, message: failure.message });
  const fault = (reply: FastifyReply, what: string) => {
    log.info({ outcome: 'fault', what }, 'sandbox fault injected');
    return answer(reply, 500, { code: 'ACQ.SYSTEM_ERROR', message: `sandbox fault: ${what}` });
  };

  function tradeAnswer(trade: Trade) {
    const status = state.statusOf(trade, now());
    return {
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      trade_status: status,
      total_amount: toDecimalString(trade.amount, CNY),
      ...(trade.paidAt !== null
        ? {
            send_pay_date: chinaDateTime(new Date(trade.paidAt)),
            buyer_pay_amount: toDecimalString(trade.amount, CNY),
          }
        : {}),
    };
  }

  /** One notification in Alipay's form (no empty fields: the SDK's check signs them too). */
  function notify(trade: Trade, fields: Record<string, string>): void {
    if (!trade.notifyUrl) return;
    const notifyId = randomBytes(16).toString('hex');
    if (draw(faults.current.dropNotifyRate)) {
      log.info({ notifyId, outTradeNo: trade.outTradeNo, outcome: 'dropped' }, 'notify dropped by fault');
      return;
    }
    const params = signV2(
      {
        notify_time: chinaDateTime(new Date(now())),
        notify_type: 'trade_status_sync',
        notify_id: notifyId,
        app_id: options.appId,
        charset: 'utf-8',
        version: '1.0',
        sign_type: 'RSA2',
        trade_no: trade.tradeNo,
        out_trade_no: trade.outTradeNo,
        total_amount: toDecimalString(trade.amount, CNY),
        subject: trade.subject,
        gmt_create: chinaDateTime(new Date(trade.createdAt)),
        ...fields,
      },
      options.alipayPrivateKey,
    );
    const body = new URLSearchParams(params).toString();
    const render = () => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    const copies = faults.current.duplicateNotifies ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1)
      sender.send(trade.notifyUrl, notifyId, render, firstSendDelayMs(faults.current));
  }

  function notifyPaid(trade: Trade): void {
    const amount = toDecimalString(trade.amount, CNY);
    notify(trade, {
      trade_status: 'TRADE_SUCCESS',
      receipt_amount: amount,
      buyer_pay_amount: amount,
      gmt_payment: chinaDateTime(new Date(trade.paidAt ?? now())),
    });
  }

  function pay(trade: Trade) {
    const paid = state.pay(trade.outTradeNo, now());
    if (paid.ok) {
      log.info({ outTradeNo: trade.outTradeNo, amount: trade.amount }, 'trade paid');
      notifyPaid(paid.trade);
    }
    return paid;
  }

  app.addHook('onClose', async () => sender.cancelAll());
  app.get('/healthz', async () => ({ status: 'ok' }));

  // v3 OpenAPI: the app's signature on every request, Alipay's on every answer.
  app.register(async (v3) => {
    v3.addHook('preHandler', async (request: FastifyRequest, reply) => {
      const body = typeof request.body === 'string' ? request.body : '';
      const check = verifyV3Request(
        request.headers.authorization,
        request.method,
        request.url,
        body,
        options.appPublicKey,
      );
      if (!check.ok) return refuse(reply, { code: 'invalid-signature', message: check.reason }, 401);
      if (check.auth.appId !== options.appId)
        return refuse(reply, { code: 'invalid-app-id', message: `unknown app_id ${check.auth.appId}` }, 401);
      if (Math.abs(Date.now() - check.auth.timestamp) > 15 * 60_000)
        return refuse(
          reply,
          { code: 'invalid-timestamp', message: 'timestamp more than 15 minutes off' },
          401,
        );
    });

    function parse<T>(schema: z.ZodType<T>, request: FastifyRequest, reply: FastifyReply): T | undefined {
      let json: unknown;
      try {
        json = JSON.parse(typeof request.body === 'string' ? request.body : '');
      } catch {
        void refuse(reply, { code: 'ACQ.INVALID_PARAMETER', message: 'body is not JSON' });
        return undefined;
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        void refuse(reply, { code: 'ACQ.INVALID_PARAMETER', message: issuesOf(parsed.error) });
        return undefined;
      }
      return parsed.data;
    }

    v3.post('/v3/alipay/trade/precreate', async (request, reply) => {
      if (faults.current.createLatencyMs > 0) await sleep(faults.current.createLatencyMs);
      if (draw(faults.current.createErrorRate)) return fault(reply, 'precreate');
      const body = parse(precreateBody, request, reply);
      if (!body) return reply;
      const created = state.create(newTrade(body, 'alipay-qr', body.notify_url, undefined), now(), false);
      if (!created.ok) return refuse(reply, created);
      log.info({ outTradeNo: body.out_trade_no, created: created.created }, 'trade precreated');
      const qrCode = `${options.publicUrl ?? `http://${request.headers.host}`}/qr/${encodeURIComponent(body.out_trade_no)}`;
      return answer(reply, 200, { out_trade_no: body.out_trade_no, qr_code: qrCode });
    });

    v3.post('/v3/alipay/trade/query', async (request, reply) => {
      if (faults.current.queryLatencyMs > 0) await sleep(faults.current.queryLatencyMs);
      if (draw(faults.current.queryErrorRate)) return fault(reply, 'query');
      const body = parse(byTrade, request, reply);
      if (!body) return reply;
      const found = state.find(body.out_trade_no);
      return found.ok ? answer(reply, 200, tradeAnswer(found.trade)) : refuse(reply, found);
    });

    v3.post('/v3/alipay/trade/close', async (request, reply) => {
      if (faults.current.closeLatencyMs > 0) await sleep(faults.current.closeLatencyMs);
      if (draw(faults.current.closeErrorRate)) return fault(reply, 'close');
      const body = parse(byTrade, request, reply);
      if (!body) return reply;
      const closed = state.close(body.out_trade_no, now());
      log.info({ outTradeNo: body.out_trade_no, outcome: closed.ok ? 'closed' : closed.code }, 'close');
      if (!closed.ok) return refuse(reply, closed);
      notify(closed.trade, { trade_status: 'TRADE_CLOSED', gmt_close: chinaDateTime(new Date(now())) });
      return answer(reply, 200, { trade_no: closed.trade.tradeNo, out_trade_no: closed.trade.outTradeNo });
    });

    v3.post('/v3/alipay/trade/refund', async (request, reply) => {
      if (draw(faults.current.refundErrorRate)) return fault(reply, 'refund');
      const body = parse(refundBody, request, reply);
      if (!body) return reply;
      const refunded = state.refund(
        body.out_trade_no,
        body.out_request_no,
        body.refund_amount,
        now(),
        draw(faults.current.refundFailRate),
      );
      log.info(
        {
          outTradeNo: body.out_trade_no,
          outRequestNo: body.out_request_no,
          outcome: refunded.ok ? 'ok' : refunded.code,
        },
        'refund',
      );
      if (!refunded.ok) return refuse(reply, refunded);
      const { trade, fundChange } = refunded;
      const total = state.refundedTotal(trade.outTradeNo);
      if (fundChange)
        notify(trade, {
          // A full refund closes the trade in Alipay's notification; a partial one leaves it TRADE_SUCCESS.
          trade_status: total >= trade.amount ? 'TRADE_CLOSED' : 'TRADE_SUCCESS',
          out_biz_no: body.out_request_no,
          refund_fee: toDecimalString(total, CNY),
          gmt_refund: chinaDateTime(new Date(now())),
          gmt_payment: chinaDateTime(new Date(trade.paidAt ?? now())),
        });
      return answer(reply, 200, {
        trade_no: trade.tradeNo,
        out_trade_no: trade.outTradeNo,
        refund_fee: toDecimalString(total, CNY),
        fund_change: fundChange ? 'Y' : 'N',
      });
    });

    v3.post('/v3/alipay/trade/fastpay/refund/query', async (request, reply) => {
      if (draw(faults.current.queryErrorRate)) return fault(reply, 'refund query');
      const body = parse(refundQueryBody, request, reply);
      if (!body) return reply;
      const found = state.find(body.out_trade_no);
      if (!found.ok) return refuse(reply, found);
      const refund = state.findRefund(body.out_trade_no, body.out_request_no);
      // Only a refund made answers refund_status REFUND_SUCCESS. One never received answers without
      // refund fields; one that failed names its amounts but no refund_status (the field doc of
      // alipay.trade.fastpay.refund.query: no refund_status means not received, or failed).
      return answer(reply, 200, {
        trade_no: found.trade.tradeNo,
        out_trade_no: body.out_trade_no,
        out_request_no: body.out_request_no,
        ...(refund
          ? {
              total_amount: toDecimalString(found.trade.amount, CNY),
              refund_amount: toDecimalString(refund.amount, CNY),
              ...(refund.status === 'SUCCESS'
                ? { refund_status: 'REFUND_SUCCESS', gmt_refund_pay: chinaDateTime(new Date(refund.at)) }
                : {}),
            }
          : {}),
      });
    });
  });

  // Page pay: the signed URL the SDK's pageExecute made; opening it brings the trade into being.
  app.get('/gateway.do', async (request, reply) => {
    const params = Object.fromEntries(new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1)));
    const html = (status: number, text: string) =>
      reply.code(status).type('text/html; charset=utf-8').send(text);
    if (params.method !== 'alipay.trade.page.pay')
      return html(
        400,
        errorPage('invalid-method', `this sandbox serves alipay.trade.page.pay, not ${params.method}`),
      );
    if (params.app_id !== options.appId)
      return html(400, errorPage('invalid-app-id', `unknown app_id ${params.app_id}`));
    if (params.sign_type !== 'RSA2' || !verifyV2Request(params, options.appPublicKey))
      return html(400, errorPage('invalid-signature', 'sign does not verify'));
    let biz;
    try {
      biz = pageBizContent.parse(JSON.parse(params.biz_content ?? ''));
    } catch (error) {
      return html(400, errorPage('ACQ.INVALID_PARAMETER', errorMessage(error)));
    }
    if (draw(faults.current.createErrorRate))
      return html(500, errorPage('ACQ.SYSTEM_ERROR', 'sandbox fault'));
    const created = state.create(
      newTrade(biz, 'alipay-page', params.notify_url, params.return_url),
      now(),
      true,
    );
    if (!created.ok) return html(400, errorPage(created.code, created.message));
    log.info({ outTradeNo: biz.out_trade_no, created: created.created }, 'page opened');
    return html(200, tradePage(created.trade, state.statusOf(created.trade, now())));
  });

  // The QR code's content: opening it is the shopper scanning it.
  app.get<{ Params: { outTradeNo: string } }>('/qr/:outTradeNo', async (request, reply) => {
    const trade = state.open(request.params.outTradeNo);
    const html = reply.type('text/html; charset=utf-8');
    if (!trade) return html.code(404).send(errorPage('ACQ.TRADE_NOT_EXIST', 'no such QR code'));
    return html.send(tradePage(trade, state.statusOf(trade, now())));
  });

  // The shopper's pay button.
  app.post<{ Params: { outTradeNo: string } }>('/pay/:outTradeNo', async (request, reply) => {
    const trade = state.get(request.params.outTradeNo);
    const html = reply.type('text/html; charset=utf-8');
    if (!trade) return html.code(404).send(errorPage('ACQ.TRADE_NOT_EXIST', 'no such trade'));
    const paid = pay(trade);
    if (!paid.ok) return html.code(409).send(tradePage(trade, state.statusOf(trade, now())));
    if (trade.product === 'alipay-page' && trade.returnUrl) {
      const back = new URL(trade.returnUrl);
      const signed = signV2(
        {
          app_id: options.appId,
          method: 'alipay.trade.page.pay.return',
          charset: 'utf-8',
          sign_type: 'RSA2',
          version: '1.0',
          timestamp: chinaDateTime(new Date(now())),
          out_trade_no: trade.outTradeNo,
          trade_no: trade.tradeNo,
          total_amount: toDecimalString(trade.amount, CNY),
        },
        options.alipayPrivateKey,
      );
      for (const [name, value] of Object.entries(signed)) back.searchParams.set(name, value);
      return reply.redirect(back.toString(), 303);
    }
    return html.send(tradePage(trade, 'TRADE_SUCCESS'));
  });

  const ledgerStatus = (trade: Trade): Ledger['trades'][number]['status'] => {
    const status = state.statusOf(trade, now());
    if (status === 'TRADE_SUCCESS') return 'PAID';
    if (status === 'WAIT_BUYER_PAY') return 'WAITING';
    return trade.closedByMerchant ? 'CLOSED' : 'EXPIRED';
  };

  registerControlApi(
    app,
    {
      pay(channelOrderNo) {
        const trade = state.get(channelOrderNo);
        if (!trade)
          return { status: 404, body: controlError('TRADE_NOT_FOUND', `no trade ${channelOrderNo}`) };
        const paid = pay(trade);
        if (!paid.ok)
          return { status: 409, body: controlError(paid.code, 'trade already paid, closed or expired') };
        return { status: 200, body: tradeAnswer(paid.trade) };
      },
      ledger(filter) {
        const trades = state
          .allTrades()
          .filter((trade) =>
            inLedger(filter, { channelOrderNo: trade.outTradeNo, merchantOrderNo: trade.merchantOrderNo }),
          );
        const numbers = new Set(trades.map((trade) => trade.outTradeNo));
        return {
          trades: trades.map((trade) => ({
            channelOrderNo: trade.outTradeNo,
            merchantOrderNo: trade.merchantOrderNo,
            channel: trade.product satisfies Product,
            amount: trade.amount,
            currency: CNY,
            status: ledgerStatus(trade),
            paidAt: trade.paidAt === null ? null : new Date(trade.paidAt).toISOString(),
          })),
          refunds: state
            .allRefunds()
            .filter((refund) => numbers.has(refund.outTradeNo))
            .map((refund) => ({
              refundNo: refund.outRequestNo,
              channelOrderNo: refund.outTradeNo,
              amount: refund.amount,
              status: refund.status,
            })),
        };
      },
      clear() {
        sender.cancelAll();
        state.clear();
      },
    },
    faults,
    log,
  );

  return app;
}
