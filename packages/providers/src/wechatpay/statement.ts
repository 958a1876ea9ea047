/**
 * WeChat Pay's statement of a day, as it documents it: `GET /v3/bill/tradebill?bill_date=&
 * bill_type=ALL&tar_type=GZIP` (signed both ways through the plugin) answers a `download_url`
 * and the SHA-1 of the uncompressed bill (`hash_type`, `hash_value`); the file itself
 * (`/v3/billdownload/file`) is sent unsigned, which is why its hash is checked before any line is
 * read. Asking before the bill is made answers `400 STATEMENT_CREATING` (账单生成中: WeChat Pay
 * makes a day's bill from 09:00 the next day, China time, and advises fetching after 10:00); a day
 * with no trade and no refund answers `400 NO_STATEMENT_EXIST`, an empty statement.
 */
import { z } from 'zod';
import {
  ChannelUnavailableError,
  StatementUnavailableError,
  type FetchedStatement,
  type StatementSource,
} from '@payments/core';
import type { Readable } from 'node:stream';
import { billDate, fetchedStatement } from '../statement-files/fetched';
import { removedOnFailure, spoolStream, type Spool } from '../statement-files/spool';
import { checkedWechatBill, wechatBillLines } from './bill-file';
import type { WechatAnswer, WechatCall, WechatpayClient } from './client';

const billAnswer = z.object({
  hash_type: z.string(),
  hash_value: z.string().regex(/^[0-9a-fA-F]{40}$/),
  download_url: z.string().url(),
});

export class WechatpayStatements implements StatementSource {
  /** Bill dates are days in China Standard Time. */
  readonly timeZone = 'Asia/Shanghai';

  constructor(private readonly client: Pick<WechatpayClient, 'call' | 'download'>) {}

  async fetchStatement(date: string): Promise<FetchedStatement> {
    billDate(date);
    const applied = await this.send({
      method: 'GET',
      path: 'v3/bill/tradebill',
      query: { bill_date: date, bill_type: 'ALL', tar_type: 'GZIP' },
    });
    if (!applied.ok) {
      if (applied.code === 'STATEMENT_CREATING')
        throw new StatementUnavailableError(
          `WeChat Pay bill of ${date} not made yet (STATEMENT_CREATING): ask again after 10:00 China time`,
          'NOT_READY',
        );
      if (applied.code === 'NO_STATEMENT_EXIST')
        return fetchedStatement(
          'wechatpay',
          date,
          await spoolStream('wechatpay', date, []),
          { lines: 0, totals: {} },
          async function* () {},
        );
      throw new StatementUnavailableError(
        `WeChat Pay bill of ${date} refused: ${applied.code} ${applied.message}`,
        'FETCH_FAILED',
      );
    }
    const bill = billAnswer.safeParse(applied.data);
    if (!bill.success)
      throw new StatementUnavailableError(
        `WeChat Pay bill answer unreadable: ${bill.error.message}`,
        'UNREADABLE',
      );
    if (bill.data.hash_type !== 'SHA1')
      throw new StatementUnavailableError(`WeChat Pay bill hash_type ${bill.data.hash_type}`, 'UNREADABLE');
    const url = new URL(bill.data.download_url);
    if (!url.pathname.endsWith('/v3/billdownload/file'))
      throw new StatementUnavailableError(`WeChat Pay download_url ${url.pathname}`, 'FETCH_FAILED');
    // Through the plugin too: the download is a signed request (its answer is not signed).
    const file = await this.send(
      { method: 'GET', path: 'v3/billdownload/file', query: Object.fromEntries(url.searchParams) },
      true,
    );
    if (!file.ok)
      throw new StatementUnavailableError(
        `WeChat Pay bill download refused: ${file.code} ${file.message}`,
        'FETCH_FAILED',
      );
    let raw: Spool;
    try {
      raw = await spoolStream('wechatpay', date, file.data as Readable);
    } catch (error) {
      throw new StatementUnavailableError(
        `WeChat Pay bill download cut: ${(error as Error).message}`,
        'UNREADABLE',
      );
    }
    return wechatpayStatement(date, raw, bill.data.hash_value);
  }

  private async send(call: WechatCall, file = false): Promise<WechatAnswer> {
    try {
      return await (file ? this.client.download(call) : this.client.call(call));
    } catch (error) {
      if (error instanceof ChannelUnavailableError)
        throw new StatementUnavailableError(error.message, 'FETCH_FAILED');
      throw error;
    }
  }
}

/** A spooled bill checked (the SHA-1 its bill answer announced, its shape, its summary) and read as the seam's statement. */
export async function wechatpayStatement(date: string, raw: Spool, sha1: string): Promise<FetchedStatement> {
  const summary = await removedOnFailure(raw, () => checkedWechatBill(raw, sha1));
  return fetchedStatement('wechatpay', date, raw, summary, () => wechatBillLines(raw));
}
