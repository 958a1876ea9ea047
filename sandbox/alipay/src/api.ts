/**
 * Alipay's v3 OpenAPI (`POST /v3/alipay/trade/{precreate,query,close,refund,fastpay/refund/query}`,
 * `GET /v3/alipay/data/dataservice/bill/downloadurl/query`): the app's `authorization` signature
 * verified on every request, every answer signed (`alipay-signature`), Alipay's error codes with
 * 4xx; and the bill link itself (`GET /downloadBillFile.resource`, unsigned, 30 s).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { toDecimalString } from '@payments/core';
import { chinaDateTime } from '@payments/providers';
import { draw, issuesOf } from '@payments/sandbox-kit';
import { byTrade, CNY, newTrade, precreateBody, refundBody, refundQueryBody } from './requests';
import type { AlipaySandbox } from './sandbox';
import { signV3Response, verifyV3Request } from './signing';
import { billOf } from './statement';

export function registerApi(app: FastifyInstance, sandbox: AlipaySandbox): void {
  const { state, faults, log, now, options, notifications } = sandbox;
  const notify = notifications.notify.bind(notifications);

  /** A v3 answer, signed (or signed wrongly under the fault). */
  function answer(reply: FastifyReply, status: number, body: object) {
    const text = JSON.stringify(body);
    const key = faults.current.badResponseSignature ? sandbox.stranger() : options.alipayPrivateKey;
    return reply.code(status).headers(signV3Response(text, key)).type('application/json').send(text);
  }
  const refuse = (reply: FastifyReply, failure: { code: string; message: string }, status = 400) =>
    answer(reply, status, { code: failure.code, message: failure.message });
  const fault = (reply: FastifyReply, what: string) => {
    log.info({ outcome: 'fault', what }, 'sandbox fault injected');
    return answer(reply, 500, { code: 'ACQ.SYSTEM_ERROR', message: `sandbox fault: ${what}` });
  };

  // The bill link (dwbillcenter.alipay.com's stand-in): its token is its only credential.
  app.get<{ Querystring: { token?: string } }>('/downloadBillFile.resource', async (request, reply) => {
    let zip = sandbox.billLinks.take(request.query.token ?? '', now());
    if (!zip) return reply.code(404).type('text/plain').send('链接已失效');
    if (sandbox.alipayFaults.statementTruncated) zip = zip.subarray(0, Math.floor(zip.length / 2));
    if (sandbox.alipayFaults.statementWrongHash) {
      zip = Buffer.from(zip);
      // The detail's CRC-32 in the central directory no longer matches its bytes: the archive
      // opens and inflates, and its check fails at the entry's end.
      const directoryAt = zip.readUInt32LE(zip.length - 22 + 16);
      zip.writeUInt32LE((zip.readUInt32LE(directoryAt + 16) ^ 0x01) >>> 0, directoryAt + 16);
    }
    return reply.code(200).type('application/zip').send(zip);
  });

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

    // 查询对账单下载地址: the day's trade bill (China time) from the ledger, behind a 30 s link.
    v3.get<{ Querystring: { bill_type?: string; bill_date?: string } }>(
      '/v3/alipay/data/dataservice/bill/downloadurl/query',
      async (request, reply) => {
        const { bill_type: type, bill_date: date } = request.query;
        if (type !== 'trade' || !date || !/^\d{4}-\d{2}-\d{2}$/.test(date))
          return refuse(reply, {
            code: 'INVALID_PARAMETER',
            message: 'sandbox: bill_type=trade and a daily bill_date (yyyy-MM-dd)',
          });
        if (sandbox.alipayFaults.statementNotReady)
          return refuse(reply, { code: 'isp.bill_not_exist', message: '账单不存在' });
        const token = sandbox.billLinks.issue(await billOf(state, date), now());
        const day = date.replaceAll('-', '');
        return answer(reply, 200, {
          bill_download_url: `http://${request.headers.host}/downloadBillFile.resource?bizType=trade&fileType=csv.zip&bizDates=${day}&downloadFileName=${day}.csv.zip&token=${token}`,
        });
      },
    );

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
      return found.ok ? answer(reply, 200, sandbox.tradeAnswer(found.trade)) : refuse(reply, found);
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
}
