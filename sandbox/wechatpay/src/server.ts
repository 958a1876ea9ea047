/**
 * A protocol-faithful WeChat Pay (APIv3) on this machine (CONTRACT 9), for the official
 * `wechatpay-axios-plugin` unchanged:
 * - `POST /v3/pay/transactions/native`, `GET /v3/pay/transactions/out-trade-no/:no?mchid=`,
 *   `POST …/:no/close` (204), `POST /v3/refund/domestic/refunds`, `GET …/refunds/:no`: the
 *   merchant's `Authorization` verified, every answer signed with the platform key
 *   (`Wechatpay-*`, platform public-key mode), WeChat Pay's error codes and statuses;
 * - the QR code's page (`weixin://wxpay/bizpayurl?pr=<token>` is served as `/bizpayurl?pr=<token>`:
 *   opening it is scanning it in WeChat);
 * - notifications: JSON with an AEAD_AES_256_GCM resource, signed, retried on WeChat Pay's
 *   schedule until answered 2xx; refunds settle asynchronously and notify too;
 * - the sandbox control API of CONTRACT 6 (the kit's).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { chinaRfc3339, createLogger, parseRfc3339, type Logger } from '@payments/common';
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
import { encryptResource, signedHeaders, verifyMerchantRequest } from './signing';
import { ERROR_STATUS, WechatpayState, type Failure, type Refund, type Trade } from './state';

export interface WechatpaySandboxOptions {
  mchid: string;
  appid: string;
  /** The merchant certificate's serial and public key: requests are verified with it. */
  merchantSerial: string;
  merchantPublicKey: string;
  /** "WeChat Pay's" key pair id and private key: answers and notifications are signed with it. */
  publicKeyId: string;
  platformPrivateKey: string;
  /** The merchant's APIv3 key: notification resources are encrypted with it. */
  apiV3Key: string;
  log?: Logger;
  /** Compresses WeChat Pay's notification schedule and refund settling for tests: 0.001 → 15 ms, … */
  notifyTimeScale?: number;
  now?: () => number;
}

/** WeChat Pay's retries after the first notification: 16 sends within 24 h 4 min, then it stops. */
const WECHATPAY_NOTIFY_RETRIES_MS = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
].map((seconds) => seconds * 1000);
/** How long a refund stays PROCESSING before the money reaches the shopper's balance. */
const REFUND_SETTLE_MS = 3000;
/** A request whose signed timestamp is further than this from WeChat Pay's clock is refused. */
const MAX_REQUEST_SKEW_S = 300;

const fen = z.number().int().min(1).max(10_000_000_000);
const outTradeNo = z.string().regex(/^[A-Za-z0-9_\-*|]{6,32}$/, '6 to 32 of letters, digits, _-*|');
const outRefundNo = z.string().regex(/^[A-Za-z0-9_\-|*@]{1,64}$/, '1 to 64 of letters, digits, _-|*@');
const notifyUrl = z
  .url()
  .refine((text) => !new URL(text).search, 'must not carry a query string')
  .refine((text) => /^https?:/.test(text), 'must be an http(s) URL');
const rfc3339 = z.string().transform((text, ctx) => {
  try {
    return parseRfc3339(text).getTime();
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
const nativeBody = z.object({
  appid: z.string().min(1).max(32),
  mchid: z.string().min(1).max(32),
  description: z.string().min(1).max(127),
  out_trade_no: outTradeNo,
  time_expire: rfc3339.optional(),
  attach: z.string().max(128).optional(),
  notify_url: notifyUrl,
  amount: z.object({ total: fen, currency: z.literal('CNY').optional() }),
});
const closeBody = z.object({ mchid: z.string().min(1) });
const refundBody = z.object({
  out_trade_no: outTradeNo,
  out_refund_no: outRefundNo,
  reason: z.string().max(80).optional(),
  notify_url: notifyUrl.optional(),
  amount: z.object({ refund: fen, total: fen, currency: z.literal('CNY') }),
});

export function buildWechatpaySandbox(options: WechatpaySandboxOptions): FastifyInstance {
  const log = options.log ?? createLogger('sandbox-wechatpay', 'silent');
  const now = options.now ?? Date.now;
  const scale = options.notifyTimeScale ?? 1;
  const state = new WechatpayState();
  const faults = new FaultBox();
  const timers = new Set<NodeJS.Timeout>();
  const sender = new NotifySender({
    log,
    retryDelaysMs: scaledSchedule(WECHATPAY_NOTIFY_RETRIES_MS, scale),
    stopAfterSchedule: true,
  });
  // Signs answers while the badResponseSignature fault is on: valid RSA, but not the platform key.
  const stranger = strangerKey();

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  // Signatures cover the exact bytes: bodies stay strings until verified.
  keepRawBodies(app);

  /** A v3 answer, signed (or signed wrongly under the fault). A 204 has an empty body, signed too. */
  function answer(reply: FastifyReply, status: number, body?: object) {
    const text = body === undefined ? '' : JSON.stringify(body);
    const key = faults.current.badResponseSignature ? stranger() : options.platformPrivateKey;
    reply.code(status).headers(signedHeaders(text, key, options.publicKeyId, now()));
    return body === undefined ? reply.send() : reply.type('application/json').send(text);
  }
  const refuse = (reply: FastifyReply, failure: { code: string; message: string }, status?: number) =>
    answer(reply, status ?? ERROR_STATUS[failure.code as Failure['code']] ?? 400, {
      code: failure.code,
      message: failure.message,
    });
  const fault = (reply: FastifyReply, what: string) => {
    log.info({ outcome: 'fault', what }, 'sandbox fault injected');
    return answer(reply, 500, { code: 'SYSTEM_ERROR', message: `sandbox fault: ${what}` });
  };

  function transaction(trade: Trade) {
    const paid = trade.state === 'SUCCESS' || trade.state === 'REFUND';
    return {
      appid: options.appid,
      mchid: options.mchid,
      out_trade_no: trade.outTradeNo,
      trade_type: 'NATIVE',
      trade_state: trade.state,
      trade_state_desc: { NOTPAY: '未支付', SUCCESS: '支付成功', REFUND: '转入退款', CLOSED: '已关闭' }[
        trade.state
      ],
      ...(trade.attach !== null ? { attach: trade.attach } : {}),
      ...(paid
        ? {
            transaction_id: trade.transactionId,
            bank_type: 'OTHERS',
            success_time: chinaRfc3339(new Date(trade.successTime ?? now())),
            payer: { openid: trade.openid },
          }
        : {}),
      amount: {
        total: trade.amount,
        ...(paid ? { payer_total: trade.amount } : {}),
        currency: 'CNY',
        payer_currency: 'CNY',
      },
    };
  }

  function refundView(refund: Refund, trade: Trade) {
    return {
      refund_id: refund.refundId,
      out_refund_no: refund.outRefundNo,
      transaction_id: trade.transactionId,
      out_trade_no: trade.outTradeNo,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      create_time: chinaRfc3339(new Date(refund.createdAt)),
      ...(refund.successTime !== null ? { success_time: chinaRfc3339(new Date(refund.successTime)) } : {}),
      status: refund.status,
      funds_account: 'AVAILABLE',
      amount: {
        total: trade.amount,
        refund: refund.amount,
        payer_total: trade.amount,
        payer_refund: refund.amount,
        settlement_total: trade.amount,
        settlement_refund: refund.amount,
        discount_refund: 0,
        currency: 'CNY',
        refund_fee: 0,
      },
    };
  }

  /** One notification: the resource encrypted once, the headers signed anew for each send. */
  function notify(
    url: string | null,
    eventType: string,
    summary: string,
    originalType: string,
    plain: object,
  ) {
    if (!url) return;
    const id = randomUUID();
    if (draw(faults.current.dropNotifyRate)) {
      log.info({ notifyId: id, eventType, outcome: 'dropped' }, 'notify dropped by fault');
      return;
    }
    const body = JSON.stringify({
      id,
      create_time: chinaRfc3339(new Date(now())),
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary,
      resource: encryptResource(JSON.stringify(plain), options.apiV3Key, originalType, originalType),
    });
    const render = () => ({
      headers: {
        'content-type': 'application/json',
        ...signedHeaders(body, options.platformPrivateKey, options.publicKeyId, now()),
      },
      body,
    });
    const copies = faults.current.duplicateNotifies ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1)
      sender.send(url, id, render, firstSendDelayMs(faults.current));
  }

  function pay(outTradeNo: string) {
    const paid = state.pay(outTradeNo, now());
    if (paid.ok) {
      log.info({ outTradeNo, amount: paid.trade.amount }, 'order paid');
      notify(paid.trade.notifyUrl, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', transaction(paid.trade));
    }
    return paid;
  }

  /** The money reaches the shopper a moment after the refund is accepted (ABNORMAL under refundFailRate). */
  function settleRefundLater(refund: Refund) {
    const fail = draw(faults.current.refundFailRate);
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        const done = state.finishRefund(refund.outRefundNo, fail ? 'ABNORMAL' : 'SUCCESS', now());
        const found = done && state.findRefund(done.outRefundNo);
        if (!done || !found?.ok) return;
        log.info({ outRefundNo: done.outRefundNo, status: done.status }, 'refund settled');
        notify(
          done.notifyUrl,
          `REFUND.${done.status}`,
          done.status === 'SUCCESS' ? '退款成功' : '退款异常',
          'refund',
          {
            mchid: options.mchid,
            out_trade_no: found.trade.outTradeNo,
            transaction_id: found.trade.transactionId,
            out_refund_no: done.outRefundNo,
            refund_id: done.refundId,
            refund_status: done.status,
            ...(done.successTime !== null ? { success_time: chinaRfc3339(new Date(done.successTime)) } : {}),
            user_received_account: '支付用户零钱',
            amount: {
              total: found.trade.amount,
              refund: done.amount,
              payer_total: found.trade.amount,
              payer_refund: done.amount,
            },
          },
        );
      },
      Math.max(1, Math.round(REFUND_SETTLE_MS * scale)),
    );
    timers.add(timer);
  }

  const cancelAll = () => {
    sender.cancelAll();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };
  app.addHook('onClose', async () => cancelAll());
  app.get('/healthz', async () => ({ status: 'ok' }));

  // APIv3: the merchant's signature on every request, WeChat Pay's on every answer.
  app.register(async (v3) => {
    v3.addHook('preHandler', async (request: FastifyRequest, reply) => {
      const body = typeof request.body === 'string' ? request.body : '';
      const check = verifyMerchantRequest(
        request.headers.authorization,
        request.method,
        request.url,
        body,
        options.merchantPublicKey,
      );
      if (!check.ok) return refuse(reply, { code: 'SIGN_ERROR', message: check.reason }, 401);
      if (check.auth.mchid !== options.mchid || check.auth.serialNo !== options.merchantSerial)
        return refuse(
          reply,
          {
            code: 'SIGN_ERROR',
            message: `no certificate ${check.auth.serialNo} for merchant ${check.auth.mchid}`,
          },
          401,
        );
      if (Math.abs(now() / 1000 - check.auth.timestamp) > MAX_REQUEST_SKEW_S)
        return refuse(reply, { code: 'SIGN_ERROR', message: 'timestamp more than 5 minutes off' }, 401);
    });

    function parse<T>(schema: z.ZodType<T>, request: FastifyRequest, reply: FastifyReply): T | undefined {
      let json: unknown;
      try {
        json = JSON.parse(typeof request.body === 'string' ? request.body : '');
      } catch {
        void refuse(reply, { code: 'PARAM_ERROR', message: 'body is not JSON' }, 400);
        return undefined;
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        void refuse(reply, { code: 'PARAM_ERROR', message: issuesOf(parsed.error) }, 400);
        return undefined;
      }
      return parsed.data;
    }
    const wrongMerchant = (reply: FastifyReply, mchid: string) =>
      refuse(reply, { code: 'MCH_NOT_EXISTS', message: `商户号 ${mchid} 不存在` }, 400);

    v3.post('/v3/pay/transactions/native', async (request, reply) => {
      if (faults.current.createLatencyMs > 0) await sleep(faults.current.createLatencyMs);
      if (draw(faults.current.createErrorRate)) return fault(reply, 'native order');
      const body = parse(nativeBody, request, reply);
      if (!body) return reply;
      if (body.mchid !== options.mchid) return wrongMerchant(reply, body.mchid);
      if (body.appid !== options.appid)
        return refuse(reply, { code: 'APPID_MCHID_NOT_MATCH', message: 'appid和mch_id不匹配' }, 400);
      const created = state.create(
        {
          outTradeNo: body.out_trade_no,
          attach: body.attach ?? null,
          description: body.description,
          amount: body.amount.total,
          timeExpire: body.time_expire ?? null,
          notifyUrl: body.notify_url,
        },
        now(),
      );
      if (!created.ok) return refuse(reply, created);
      log.info({ outTradeNo: body.out_trade_no, created: created.created }, 'native order');
      return answer(reply, 200, { code_url: `weixin://wxpay/bizpayurl?pr=${created.trade.prepayToken}` });
    });

    v3.get<{ Params: { outTradeNo: string }; Querystring: { mchid?: string } }>(
      '/v3/pay/transactions/out-trade-no/:outTradeNo',
      async (request, reply) => {
        if (faults.current.queryLatencyMs > 0) await sleep(faults.current.queryLatencyMs);
        if (draw(faults.current.queryErrorRate)) return fault(reply, 'query');
        if (request.query.mchid !== options.mchid) return wrongMerchant(reply, request.query.mchid ?? '');
        const found = state.find(request.params.outTradeNo);
        return found.ok ? answer(reply, 200, transaction(found.trade)) : refuse(reply, found);
      },
    );

    v3.post<{ Params: { outTradeNo: string } }>(
      '/v3/pay/transactions/out-trade-no/:outTradeNo/close',
      async (request, reply) => {
        if (faults.current.closeLatencyMs > 0) await sleep(faults.current.closeLatencyMs);
        if (draw(faults.current.closeErrorRate)) return fault(reply, 'close');
        const body = parse(closeBody, request, reply);
        if (!body) return reply;
        if (body.mchid !== options.mchid) return wrongMerchant(reply, body.mchid);
        const closed = state.close(request.params.outTradeNo, now());
        log.info(
          { outTradeNo: request.params.outTradeNo, outcome: closed.ok ? 'closed' : closed.code },
          'close',
        );
        return closed.ok ? answer(reply, 204) : refuse(reply, closed);
      },
    );

    v3.post('/v3/refund/domestic/refunds', async (request, reply) => {
      if (draw(faults.current.refundErrorRate)) return fault(reply, 'refund');
      const body = parse(refundBody, request, reply);
      if (!body) return reply;
      const refunded = state.refund(
        {
          outTradeNo: body.out_trade_no,
          outRefundNo: body.out_refund_no,
          amount: body.amount.refund,
          total: body.amount.total,
          notifyUrl: body.notify_url ?? null,
        },
        now(),
      );
      log.info(
        {
          outTradeNo: body.out_trade_no,
          outRefundNo: body.out_refund_no,
          outcome: refunded.ok ? 'ok' : refunded.code,
        },
        'refund',
      );
      if (!refunded.ok) return refuse(reply, refunded);
      if (refunded.created) settleRefundLater(refunded.refund);
      return answer(reply, 200, refundView(refunded.refund, refunded.trade));
    });

    v3.get<{ Params: { outRefundNo: string } }>(
      '/v3/refund/domestic/refunds/:outRefundNo',
      async (request, reply) => {
        if (draw(faults.current.queryErrorRate)) return fault(reply, 'refund query');
        const found = state.findRefund(request.params.outRefundNo);
        return found.ok ? answer(reply, 200, refundView(found.refund, found.trade)) : refuse(reply, found);
      },
    );
  });

  // The QR code's content, `weixin://wxpay/bizpayurl?pr=…`, as a page: opening it is scanning it.
  app.get<{ Querystring: { pr?: string } }>('/bizpayurl', async (request, reply) => {
    const trade = request.query.pr ? state.byPrepayToken(request.query.pr) : undefined;
    const html = reply.type('text/html; charset=utf-8');
    if (!trade) return html.code(404).send(errorPage('ORDER_NOT_EXIST', 'no such QR code'));
    return html.send(tradePage(trade, state.payable(trade, now())));
  });

  // The shopper's pay button.
  app.post<{ Params: { token: string } }>('/pay/:token', async (request, reply) => {
    const trade = state.byPrepayToken(request.params.token);
    const html = reply.type('text/html; charset=utf-8');
    if (!trade) return html.code(404).send(errorPage('ORDER_NOT_EXIST', 'no such order'));
    const paid = pay(trade.outTradeNo);
    return html.code(paid.ok ? 200 : 409).send(tradePage(trade, state.payable(trade, now())));
  });

  const ledgerStatus = (trade: Trade): Ledger['trades'][number]['status'] => {
    if (trade.state === 'SUCCESS' || trade.state === 'REFUND') return 'PAID';
    if (trade.state === 'CLOSED') return 'CLOSED';
    return state.payable(trade, now()) ? 'WAITING' : 'EXPIRED';
  };
  const ledgerRefundStatus = (refund: Refund): Ledger['refunds'][number]['status'] => {
    if (refund.status === 'SUCCESS' || refund.status === 'PROCESSING') return refund.status;
    return 'FAILED';
  };

  registerControlApi(
    app,
    {
      pay(channelOrderNo) {
        const paid = pay(channelOrderNo);
        if (paid.ok) return { status: 200, body: transaction(paid.trade) };
        if (paid.code === 'ORDER_NOT_EXIST')
          return { status: 404, body: controlError('TRADE_NOT_FOUND', `no order ${channelOrderNo}`) };
        return { status: 409, body: controlError(paid.code, 'order already paid, closed or expired') };
      },
      ledger(filter) {
        const trades = state
          .allTrades()
          .filter((trade) =>
            inLedger(filter, { channelOrderNo: trade.outTradeNo, merchantOrderNo: trade.attach }),
          );
        const numbers = new Set(trades.map((trade) => trade.outTradeNo));
        return {
          trades: trades.map((trade) => ({
            channelOrderNo: trade.outTradeNo,
            merchantOrderNo: trade.attach,
            channel: 'wechat-native',
            amount: trade.amount,
            currency: 'CNY',
            status: ledgerStatus(trade),
            paidAt: trade.successTime === null ? null : new Date(trade.successTime).toISOString(),
          })),
          refunds: state
            .allRefunds()
            .filter((refund) => numbers.has(refund.outTradeNo))
            .map((refund) => ({
              refundNo: refund.outRefundNo,
              channelOrderNo: refund.outTradeNo,
              amount: refund.amount,
              status: ledgerRefundStatus(refund),
            })),
        };
      },
      clear() {
        cancelAll();
        state.clear();
      },
    },
    faults,
    log,
  );

  return app;
}
