/**
 * Alipay's statement of a day, as it documents it: `alipay.data.dataservice.bill.downloadurl.query`
 * (here its v3 form, `GET /v3/alipay/data/dataservice/bill/downloadurl/query`, signed and its answer
 * verified by the SDK, like every other call of ours) with `bill_type=trade` and `bill_date` answers
 * a `bill_download_url` that lives 30 s; the zip behind it is fetched at once, unsigned (the
 * entries' CRC-32 is the file's only check).
 *
 * Why `trade`: it is the bill of the trades Alipay took for us (收单), one row per trade and refund
 * with our out_trade_no and out_request_no, which is what we match. `signcustomer` is the account's
 * money movements (账务), keyed by Alipay's own entries. Developers report that only face-to-face
 * (当面付) merchants get `trade` and the others `signcustomer`; our QR channel is face-to-face, and
 * a merchant without `trade` gets the query's refusal as FETCH_FAILED, loudly.
 *
 * A day's bill is made by 09:00 the next day (China time); asked before, or for a day it has not
 * made, Alipay answers `isp.bill_not_exist` (账单不存在; `BILL_NOT_EXIST` in its older English
 * docs): NOT_READY, as Alipay says no more than that.
 */
import { Readable } from 'node:stream';
import {
  ChannelUnavailableError,
  StatementUnavailableError,
  type FetchedStatement,
  type StatementSource,
} from '@payments/core';
import { billDate, fetchedStatement } from '../statement-files/fetched';
import { removedOnFailure, spoolStream, type Spool } from '../statement-files/spool';
import { alipayBillLines, checkedAlipayBill } from './bill-file';
import type { AlipayAnswer, AlipayClient } from './client';

const NOT_READY_CODES = new Set(['isp.bill_not_exist', 'BILL_NOT_EXIST']);
export const ALIPAY_BILL_QUERY = '/v3/alipay/data/dataservice/bill/downloadurl/query';

export class AlipayStatements implements StatementSource {
  /** Bill dates are days in China Standard Time. */
  readonly timeZone = 'Asia/Shanghai';

  constructor(
    private readonly client: Pick<AlipayClient, 'get'>,
    private readonly downloadTimeoutMs = 30_000,
  ) {}

  async fetchStatement(date: string): Promise<FetchedStatement> {
    billDate(date);
    let answer: AlipayAnswer;
    try {
      answer = await this.client.get(ALIPAY_BILL_QUERY, { bill_type: 'trade', bill_date: date });
    } catch (error) {
      if (error instanceof ChannelUnavailableError)
        throw new StatementUnavailableError(error.message, 'FETCH_FAILED');
      throw error;
    }
    if (!answer.ok) {
      if (NOT_READY_CODES.has(answer.code))
        throw new StatementUnavailableError(
          `Alipay bill of ${date} not there (${answer.code}): made by 09:00 China time the next day`,
          'NOT_READY',
        );
      throw new StatementUnavailableError(`Alipay bill of ${date} refused: ${answer.code}`, 'FETCH_FAILED');
    }
    const url = answer.data.bill_download_url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url))
      throw new StatementUnavailableError('Alipay bill answer has no bill_download_url', 'UNREADABLE');
    return alipayStatement(date, await this.download(url, date));
  }

  /**
   * The zip, at once (the link lives 30 s), spooled to a file as it comes. A plain GET (the SDK has
   * no call for it; the link is its own token).
   */
  private async download(url: string, date: string): Promise<Spool> {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.downloadTimeoutMs) });
    } catch (error) {
      throw new StatementUnavailableError(
        `Alipay bill download failed: ${(error as Error).message}`,
        'FETCH_FAILED',
      );
    }
    if (response.status !== 200)
      throw new StatementUnavailableError(
        `Alipay bill download answered HTTP ${response.status}`,
        'FETCH_FAILED',
      );
    try {
      return await spoolStream('alipay', date, response.body ? Readable.fromWeb(response.body as never) : []);
    } catch (error) {
      throw new StatementUnavailableError(
        `Alipay bill download cut: ${(error as Error).message}`,
        'UNREADABLE',
      );
    }
  }
}

/** A spooled bill checked (both files to their end, the CRC-32s, the 合计 row) and read as the seam's statement. */
export async function alipayStatement(date: string, raw: Spool): Promise<FetchedStatement> {
  const summary = await removedOnFailure(raw, () => checkedAlipayBill(raw));
  return fetchedStatement('alipay', date, raw, summary, () => alipayBillLines(raw));
}
