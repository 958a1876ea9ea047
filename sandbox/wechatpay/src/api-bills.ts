/**
 * WeChat Pay's trade bill (申请交易账单): `GET /v3/bill/tradebill` answers the day's bill's
 * download_url and the SHA-1 of its uncompressed bytes (signed, as every v3 answer), and
 * `GET /v3/billdownload/file` the bill itself, plain or gzip, unsigned as WeChat Pay sends files;
 * with the statement faults (not ready, a wrong hash, a truncated download).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { WechatpaySandbox } from './sandbox';
import { billOf, billRows } from './statement';

interface Answers {
  answer: (reply: FastifyReply, status: number, body?: object) => FastifyReply;
  refuse: (reply: FastifyReply, failure: { code: string; message: string }, status?: number) => FastifyReply;
}

export function registerBillRoutes(
  v3: FastifyInstance,
  sandbox: WechatpaySandbox,
  { answer, refuse }: Answers,
): void {
  const { state, log, now, options } = sandbox;
  // 申请交易账单: the day's bill (China time) from the ledger, and the SHA-1 of its uncompressed bytes.
  v3.get<{ Querystring: { bill_date?: string; bill_type?: string; tar_type?: string } }>(
    '/v3/bill/tradebill',
    async (request, reply) => {
      const { bill_date: date, bill_type: type = 'ALL', tar_type: tar } = request.query;
      if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date))
        return refuse(reply, { code: 'PARAM_ERROR', message: 'bill_date 格式为 yyyy-MM-dd' }, 400);
      if (type !== 'ALL' || (tar !== undefined && tar !== 'GZIP'))
        return refuse(
          reply,
          { code: 'PARAM_ERROR', message: 'sandbox: bill_type=ALL, tar_type GZIP or none' },
          400,
        );
      if (sandbox.wechatpayFaults.statementNotReady)
        return refuse(reply, { code: 'STATEMENT_CREATING', message: '账单生成中' }, 400);
      if (billRows(state, options, date).length === 0)
        return refuse(reply, { code: 'NO_STATEMENT_EXIST', message: '请求的账单文件不存在' }, 400);
      const bill = billOf(state, options, date);
      const sha1 = createHash('sha1').update(bill).digest('hex');
      const token = sandbox.billDownloads.issue(bill, tar === 'GZIP', now());
      log.info({ date, rows: bill.length, outcome: 'bill' }, 'trade bill');
      return answer(reply, 200, {
        hash_type: 'SHA1',
        hash_value: sandbox.wechatpayFaults.statementWrongHash
          ? createHash('sha1').update(sha1).digest('hex')
          : sha1,
        download_url: `${request.protocol}://${request.headers.host}/v3/billdownload/file?token=${token}`,
      });
    },
  );

  // The bill file: the request is signed, the answer is not (WeChat Pay sends files unsigned).
  v3.get<{ Querystring: { token?: string } }>('/v3/billdownload/file', async (request, reply) => {
    const download = sandbox.billDownloads.take(request.query.token ?? '', now());
    if (!download) return refuse(reply, { code: 'INVALID_REQUEST', message: '下载地址无效或已过期' }, 400);
    let file = download.gzip ? gzipSync(download.bill) : download.bill;
    if (sandbox.wechatpayFaults.statementTruncated) file = file.subarray(0, Math.floor(file.length / 2));
    return reply
      .code(200)
      .type(download.gzip ? 'application/x-gzip' : 'text/plain; charset=utf-8')
      .send(file);
  });
}
