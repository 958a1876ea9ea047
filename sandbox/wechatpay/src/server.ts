/**
 * A protocol-faithful WeChat Pay (APIv3) on this machine (CONTRACT 9), for the official
 * `wechatpay-axios-plugin` unchanged:
 * - `POST /v3/pay/transactions/native`, `GET /v3/pay/transactions/out-trade-no/:no?mchid=`,
 *   `POST …/:no/close` (204; `202 USER_PAYING` while the shopper enters the password),
 *   `POST /v3/refund/domestic/refunds`, `GET …/refunds/:no`,
 *   `POST …/refunds/:refund_id/apply-abnormal-refund`: the merchant's `Authorization` verified,
 *   every answer signed (`Wechatpay-*`) with WeChat Pay's public key when the request carries
 *   `Wechatpay-Serial: PUB_KEY_ID_…` (public-key mode), else with a platform certificate's key
 *   under its serial, as WeChat Pay does; WeChat Pay's error codes and statuses;
 * - the QR code's page (`weixin://wxpay/bizpayurl?pr=<token>` is served as `/bizpayurl?pr=<token>`:
 *   opening it is scanning it in WeChat);
 * - notifications: JSON with an AEAD_AES_256_GCM resource, signed, retried on WeChat Pay's
 *   schedule until answered 2xx; refunds settle asynchronously and notify too;
 * - the sandbox control API of CONTRACT 6 (the kit's), and WeChat Pay's own:
 *   `POST /sandbox/trades/:no/start-paying` (the shopper enters the password: `USERPAYING`, until
 *   `…/pay` completes it or `…/stop-paying` gives it up), `POST /sandbox/refunds/:outRefundNo/abnormal`
 *   (a PROCESSING refund ends ABNORMAL now), and `PUT /sandbox/wechatpay-faults`
 *   (`closeErrorCode`, `refundAbnormalRate`, `notifySignWith`, `answerSignWith`; reset by
 *   `DELETE /sandbox/faults` too).
 */
import { constants, privateDecrypt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createLogger, type Logger } from '@payments/common';
import { chinaRfc3339, parseRfc3339 } from '@payments/providers';
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
import {
  SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL,
} from './platform-certificate';
import { encryptResource, signedHeaders, verifyMerchantRequest } from './signing';
import { ERROR_STATUS, WechatpayState, type Failure, type Refund, type Trade } from './state';

export interface WechatpaySandboxOptions {
  mchid: string;
  appid: string;
  /** The merchant certificate's serial and public key: requests are verified with it. */
  merchantSerial: string;
  merchantPublicKey: string;
  /**
   * "WeChat Pay's" key pair id and private key (public-key mode): answers to requests that carry
   * `Wechatpay-Serial: <publicKeyId>` and notifications are signed with it.
   */
  publicKeyId: string;
  platformPrivateKey: string;
  /**
   * A platform certificate's serial and private key: answers to requests without that header, and
   * notifications under `notifySignWith: 'platform-cert'`, are signed with it. Default: the sandbox's
   * own (`platform-certificate.ts`).
   */
  platformCertificate?: { serial: string; privateKey: string };
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
const abnormalRefundBody = z.object({
  out_refund_no: outRefundNo,
  type: z.enum(['USER_BANK_CARD', 'MERCHANT_BANK_CARD']),
  bank_type: z.string().min(1).max(16).optional(),
  bank_account: z.string().min(1).max(1024).optional(),
  real_name: z.string().min(1).max(1024).optional(),
});
const refundBody = z.object({
  out_trade_no: outTradeNo,
  out_refund_no: outRefundNo,
  reason: z.string().max(80).optional(),
  notify_url: notifyUrl.optional(),
  amount: z.object({ refund: fen, total: fen, currency: z.literal('CNY') }),
});

/**
 * WeChat Pay's own faults, beside the kit's (`PUT /sandbox/wechatpay-faults`, merged; `DELETE
 * /sandbox/wechatpay-faults` or `DELETE /sandbox/faults` resets them). Unknown fields are refused.
 */
const wechatpayFaultsSchema = z
  .object({
    /**
     * What a close drawn by the kit's `closeErrorRate` answers: `SYSTEM_ERROR` (500, the default)
     * or `FREQUENCY_LIMITED` (429). Either way the order is not closed.
     */
    closeErrorCode: z.enum(['SYSTEM_ERROR', 'FREQUENCY_LIMITED']),
    /** Chance that a new refund ends `ABNORMAL` (notified `REFUND.ABNORMAL`) instead of `SUCCESS`. */
    refundAbnormalRate: z.number().min(0).max(1),
    /** Which key signs notifications: WeChat Pay's public key (default) or the platform certificate's. */
    notifySignWith: z.enum(['public-key', 'platform-cert']),
    /**
     * Which key signs answers: the one the request's `Wechatpay-Serial` names (default), or the
     * platform certificate's whatever it names (a merchant that has not switched the public key on in
     * the merchant platform yet: WeChat Pay then answers with the certificate).
     */
    answerSignWith: z.enum(['as-requested', 'platform-cert']),
  })
  .partial()
  .strict();
type WechatpayFaults = Required<z.infer<typeof wechatpayFaultsSchema>>;
const NO_WECHATPAY_FAULTS: Readonly<WechatpayFaults> = {
  closeErrorCode: 'SYSTEM_ERROR',
  refundAbnormalRate: 0,
  notifySignWith: 'public-key',
  answerSignWith: 'as-requested',
};
/** HTTP statuses of the close errors the `closeErrorCode` fault answers with. */
const CLOSE_ERROR_STATUS: Record<WechatpayFaults['closeErrorCode'], number> = {
  SYSTEM_ERROR: 500,
  FREQUENCY_LIMITED: 429,
};

export function buildWechatpaySandbox(options: WechatpaySandboxOptions): FastifyInstance {
  const log = options.log ?? createLogger('sandbox-wechatpay', 'silent');
  const now = options.now ?? Date.now;
  const scale = options.notifyTimeScale ?? 1;
  const state = new WechatpayState();
  const faults = new FaultBox();
  let wechatpayFaults: WechatpayFaults = { ...NO_WECHATPAY_FAULTS };
  const certificate = options.platformCertificate ?? {
    serial: SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL,
    privateKey: SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY,
  };
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

  /**
   * Which of WeChat Pay's keys signs an answer: its public key's only when the request names it in
   * `Wechatpay-Serial` (public-key mode); the platform certificate's when the request names that,
   * or nothing (WeChat Pay answers so until the merchant asks for the public key).
   */
  const answerSigner = (request: FastifyRequest) =>
    request.headers['wechatpay-serial'] === options.publicKeyId &&
    wechatpayFaults.answerSignWith === 'as-requested'
      ? { serial: options.publicKeyId, key: options.platformPrivateKey }
      : { serial: certificate.serial, key: certificate.privateKey };
  /** A v3 answer, signed (or signed wrongly under the fault). A 204 has an empty body, signed too. */
  function answer(reply: FastifyReply, status: number, body?: object) {
    const text = body === undefined ? '' : JSON.stringify(body);
    const signer = answerSigner(reply.request);
    const key = faults.current.badResponseSignature ? stranger() : signer.key;
    reply.code(status).headers(signedHeaders(text, key, signer.serial, now()));
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
      trade_state_desc: {
        NOTPAY: '未支付',
        USERPAYING: '用户支付中',
        SUCCESS: '支付成功',
        REFUND: '转入退款',
        CLOSED: '已关闭',
      }[trade.state],
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

  /** Where a refund's money goes: back the way it came, or where an abnormal-refund application sent it. */
  const refundChannel = (refund: Refund) => {
    switch (refund.abnormalHandling) {
      case null:
        return { channel: 'ORIGINAL', user_received_account: '支付用户零钱' };
      case 'USER_BANK_CARD':
        return { channel: 'OTHER_BANKCARD', user_received_account: '招商银行借记卡0403' };
      case 'MERCHANT_BANK_CARD':
        return { channel: 'OTHER_BANKCARD', user_received_account: '商户结算银行账户' };
      default: {
        const unknown: never = refund.abnormalHandling;
        throw new Error(`unknown abnormal refund handling ${String(unknown)}`);
      }
    }
  };

  function refundView(refund: Refund, trade: Trade) {
    return {
      refund_id: refund.refundId,
      out_refund_no: refund.outRefundNo,
      transaction_id: trade.transactionId,
      out_trade_no: trade.outTradeNo,
      ...refundChannel(refund),
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
    // During a migration WeChat Pay signs notifications with either key (its share of the public
    // key growing day by day): the fault picks the platform certificate's.
    const signer =
      wechatpayFaults.notifySignWith === 'platform-cert'
        ? { serial: certificate.serial, key: certificate.privateKey }
        : { serial: options.publicKeyId, key: options.platformPrivateKey };
    const render = () => ({
      headers: {
        'content-type': 'application/json',
        ...signedHeaders(body, signer.key, signer.serial, now()),
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

  const REFUND_SUMMARY = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭' } as const;

  /** A refund reached its end (for now: an ABNORMAL one may be applied for): `REFUND.<status>` is notified. */
  function refundEnded(outRefundNo: string, status: keyof typeof REFUND_SUMMARY) {
    const done = state.finishRefund(outRefundNo, status, now());
    const found = done && state.findRefund(done.outRefundNo);
    if (!done || !found?.ok) return undefined;
    log.info({ outRefundNo: done.outRefundNo, status: done.status }, 'refund settled');
    notify(done.notifyUrl, `REFUND.${status}`, REFUND_SUMMARY[status], 'refund', {
      mchid: options.mchid,
      out_trade_no: found.trade.outTradeNo,
      transaction_id: found.trade.transactionId,
      out_refund_no: done.outRefundNo,
      refund_id: done.refundId,
      refund_status: done.status,
      ...(done.successTime !== null ? { success_time: chinaRfc3339(new Date(done.successTime)) } : {}),
      user_received_account: refundChannel(done).user_received_account,
      amount: {
        total: found.trade.amount,
        refund: done.amount,
        payer_total: found.trade.amount,
        payer_refund: done.amount,
      },
    });
    return found;
  }

  /**
   * The money reaches the shopper a moment after the refund is accepted; under the faults it cannot
   * (`refundAbnormalRate`: ABNORMAL, held by WeChat Pay until the merchant acts) or the refund is
   * closed with nothing moved (the kit's `refundFailRate`: CLOSED). An abnormal refund applied for
   * is paid out the same way, always successfully.
   */
  function settleRefundLater(refund: Refund, reapplied = false) {
    const ending = reapplied
      ? 'SUCCESS'
      : draw(wechatpayFaults.refundAbnormalRate)
        ? 'ABNORMAL'
        : draw(faults.current.refundFailRate)
          ? 'CLOSED'
          : 'SUCCESS';
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        refundEnded(refund.outRefundNo, ending);
      },
      Math.max(1, Math.round(REFUND_SETTLE_MS * scale)),
    );
    timers.add(timer);
  }

  /** `bank_account` / `real_name`, encrypted (RSA-OAEP) with the key the request's `Wechatpay-Serial` names. */
  function decryptSensitive(request: FastifyRequest, ciphertext: string): string | undefined {
    const named = request.headers['wechatpay-serial'];
    const key =
      named === options.publicKeyId
        ? options.platformPrivateKey
        : named === certificate.serial
          ? certificate.privateKey
          : undefined;
    if (!key) return undefined;
    try {
      return privateDecrypt(
        {
          key,
          padding: constants.RSA_PKCS1_OAEP_PADDING,
          oaepHash: 'sha1',
        },
        Buffer.from(ciphertext, 'base64'),
      ).toString('utf8');
    } catch {
      return undefined;
    }
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
        if (draw(faults.current.closeErrorRate)) {
          const code = wechatpayFaults.closeErrorCode;
          log.info({ outcome: 'fault', what: 'close', code }, 'sandbox fault injected');
          return answer(reply, CLOSE_ERROR_STATUS[code], {
            code,
            message: code === 'FREQUENCY_LIMITED' ? '频率超限，请降低请求接口频率' : '系统异常，请稍后重试',
          });
        }
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

    // 发起异常退款: an ABNORMAL refund paid out to the shopper's bank card or the merchant's account.
    v3.post<{ Params: { refundId: string } }>(
      '/v3/refund/domestic/refunds/:refundId/apply-abnormal-refund',
      async (request, reply) => {
        if (draw(faults.current.refundErrorRate)) return fault(reply, 'abnormal refund');
        const body = parse(abnormalRefundBody, request, reply);
        if (!body) return reply;
        if (body.type === 'USER_BANK_CARD') {
          if (!body.bank_type || !body.bank_account || !body.real_name)
            return refuse(
              reply,
              { code: 'PARAM_ERROR', message: '退款至用户银行卡时 bank_type、bank_account、real_name 必填' },
              400,
            );
          // Sensitive fields are encrypted with the key the request names in Wechatpay-Serial.
          if (!request.headers['wechatpay-serial'])
            return refuse(reply, { code: 'PARAM_ERROR', message: '请求头缺少 Wechatpay-Serial' }, 400);
          if (
            decryptSensitive(request, body.bank_account) === undefined ||
            decryptSensitive(request, body.real_name) === undefined
          )
            return refuse(
              reply,
              { code: 'PARAM_ERROR', message: '请确认待处理的消息是否为加密后的密文' },
              400,
            );
        }
        const applied = state.applyAbnormal(request.params.refundId, body.out_refund_no, body.type);
        log.info(
          {
            refundId: request.params.refundId,
            outRefundNo: body.out_refund_no,
            type: body.type,
            outcome: applied.ok ? (applied.applied ? 'applied' : 'repeated') : applied.code,
          },
          'abnormal refund',
        );
        if (!applied.ok) return refuse(reply, applied);
        if (applied.applied) settleRefundLater(applied.refund, true);
        return answer(reply, 200, refundView(applied.refund, applied.trade));
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

  // The shopper scans the code and starts entering the password; then `…/pay` completes it.
  app.post<{ Params: { channelOrderNo: string } }>(
    '/sandbox/trades/:channelOrderNo/start-paying',
    async (request, reply) => {
      const started = state.startPaying(request.params.channelOrderNo, now());
      log.info(
        { channelOrderNo: request.params.channelOrderNo, outcome: started.ok || started.code },
        'start paying',
      );
      if (started.ok) return reply.send(transaction(started.trade));
      if (started.code === 'ORDER_NOT_EXIST')
        return reply
          .code(404)
          .send(controlError('TRADE_NOT_FOUND', `no order ${request.params.channelOrderNo}`));
      return reply.code(409).send(controlError(started.code, 'order already paid, closed or expired'));
    },
  );
  // The shopper gives the password entry up: the order waits again (NOTPAY).
  app.post<{ Params: { channelOrderNo: string } }>(
    '/sandbox/trades/:channelOrderNo/stop-paying',
    async (request, reply) => {
      const stopped = state.stopPaying(request.params.channelOrderNo);
      if (stopped.ok) return reply.send(transaction(stopped.trade));
      if (stopped.code === 'ORDER_NOT_EXIST')
        return reply
          .code(404)
          .send(controlError('TRADE_NOT_FOUND', `no order ${request.params.channelOrderNo}`));
      return reply.code(409).send(controlError(stopped.code, 'order not in payment'));
    },
  );
  // A PROCESSING refund ends ABNORMAL now (the shopper's card closed): REFUND.ABNORMAL is notified.
  app.post<{ Params: { outRefundNo: string } }>(
    '/sandbox/refunds/:outRefundNo/abnormal',
    async (request, reply) => {
      const found = state.findRefund(request.params.outRefundNo);
      if (!found.ok)
        return reply
          .code(404)
          .send(controlError('REFUND_NOT_FOUND', `no refund ${request.params.outRefundNo}`));
      if (found.refund.status !== 'PROCESSING')
        return reply
          .code(409)
          .send(controlError('REFUND_NOT_PROCESSING', `refund is ${found.refund.status}`));
      const ended = refundEnded(request.params.outRefundNo, 'ABNORMAL');
      return reply.send(ended && refundView(ended.refund, ended.trade));
    },
  );

  app.get('/sandbox/wechatpay-faults', async () => wechatpayFaults);
  app.put('/sandbox/wechatpay-faults', async (request, reply) => {
    let body: unknown;
    try {
      body = typeof request.body === 'string' && request.body.trim() !== '' ? JSON.parse(request.body) : {};
    } catch {
      return reply.code(400).send(controlError('INVALID_REQUEST', 'body is not JSON'));
    }
    const parsed = wechatpayFaultsSchema.safeParse(body);
    if (!parsed.success) return reply.code(400).send(controlError('INVALID_REQUEST', issuesOf(parsed.error)));
    wechatpayFaults = { ...wechatpayFaults, ...parsed.data };
    log.info({ wechatpayFaults }, 'wechatpay faults set');
    return wechatpayFaults;
  });
  app.delete('/sandbox/wechatpay-faults', async () => (wechatpayFaults = { ...NO_WECHATPAY_FAULTS }));
  // Resetting the kit's faults resets WeChat Pay's own too, so a test's cleanup needs one call.
  app.addHook('onRequest', async (request) => {
    if (request.method === 'DELETE' && request.url.split('?')[0] === '/sandbox/faults')
      wechatpayFaults = { ...NO_WECHATPAY_FAULTS };
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
