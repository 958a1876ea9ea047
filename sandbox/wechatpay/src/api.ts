/**
 * WeChat Pay's APIv3: `POST /v3/pay/transactions/native`, `GET /v3/pay/transactions/out-trade-no/:no?mchid=`,
 * `POST …/:no/close` (204; `202 USER_PAYING` while the shopper enters the password),
 * `POST /v3/refund/domestic/refunds`, `GET …/refunds/:no`, `POST …/refunds/:refund_id/apply-abnormal-refund`,
 * `GET /v3/bill/tradebill` (the day's bill: its download_url and SHA-1) and `GET /v3/billdownload/file`
 * (the bill itself, plain or gzip, unsigned as WeChat Pay sends it):
 * the merchant's `Authorization` verified, every answer signed (`Wechatpay-*`) with WeChat Pay's
 * public key when the request carries `Wechatpay-Serial: PUB_KEY_ID_…` (public-key mode), else
 * with a platform certificate's key under its serial, as WeChat Pay does; its error codes and statuses.
 */
import { constants, privateDecrypt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { draw, issuesOf } from '@payments/sandbox-kit';
import { abnormalRefundBody, closeBody, nativeBody, refundBody } from './requests';
import type { WechatpaySandbox } from './sandbox';
import { signedHeaders, verifyMerchantRequest } from './signing';
import { ERROR_STATUS, type Failure } from './state';
import { registerBillRoutes } from './api-bills';
import { refundView } from './views';
import { CLOSE_ERROR_STATUS } from './wechatpay-faults';

/** A request whose signed timestamp is further than this from WeChat Pay's clock is refused. */
const MAX_REQUEST_SKEW_S = 300;

export function registerApi(app: FastifyInstance, sandbox: WechatpaySandbox): void {
  const { state, faults, log, now, options } = sandbox;

  /**
   * Which of WeChat Pay's keys signs an answer: its public key's only when the request names it in
   * `Wechatpay-Serial` (public-key mode); the platform certificate's when the request names that,
   * or nothing (WeChat Pay answers so until the merchant asks for the public key).
   */
  const answerSigner = (request: FastifyRequest) =>
    request.headers['wechatpay-serial'] === options.publicKeyId &&
    sandbox.wechatpayFaults.answerSignWith === 'as-requested'
      ? { serial: options.publicKeyId, key: options.platformPrivateKey }
      : { serial: sandbox.certificate.serial, key: sandbox.certificate.privateKey };
  /** A v3 answer, signed (or signed wrongly under the fault). A 204 has an empty body, signed too. */
  function answer(reply: FastifyReply, status: number, body?: object) {
    const text = body === undefined ? '' : JSON.stringify(body);
    const signer = answerSigner(reply.request);
    const key = faults.current.badResponseSignature ? sandbox.stranger() : signer.key;
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

  /** `bank_account` / `real_name`, encrypted (RSA-OAEP) with the key the request's `Wechatpay-Serial` names. */
  function decryptSensitive(request: FastifyRequest, ciphertext: string): string | undefined {
    const named = request.headers['wechatpay-serial'];
    const key =
      named === options.publicKeyId
        ? options.platformPrivateKey
        : named === sandbox.certificate.serial
          ? sandbox.certificate.privateKey
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
        return found.ok ? answer(reply, 200, sandbox.transaction(found.trade)) : refuse(reply, found);
      },
    );

    v3.post<{ Params: { outTradeNo: string } }>(
      '/v3/pay/transactions/out-trade-no/:outTradeNo/close',
      async (request, reply) => {
        if (faults.current.closeLatencyMs > 0) await sleep(faults.current.closeLatencyMs);
        if (draw(faults.current.closeErrorRate)) {
          const code = sandbox.wechatpayFaults.closeErrorCode;
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
      if (refunded.created) sandbox.settleRefundLater(refunded.refund);
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
        if (applied.applied) sandbox.settleRefundLater(applied.refund, true);
        return answer(reply, 200, refundView(applied.refund, applied.trade));
      },
    );

    registerBillRoutes(v3, sandbox, { answer, refuse });
  });
}
