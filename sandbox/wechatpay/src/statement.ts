/**
 * The sandbox's bill of a day (China time), built from its own ledger: every order paid that day,
 * every refund asked that day (its status as it is now: a refund still PROCESSING says so, as
 * WeChat Pay's bill does), not the CLOSED ones (nothing moved). Download tokens live 5 minutes,
 * as WeChat Pay's current documentation says of `download_url`.
 */
import { randomBytes } from 'node:crypto';
import { chinaDateTime } from '@payments/providers';
import { wechatBillText, type WechatBillRow } from './bill';
import type { WechatpayState } from './state';

const TOKEN_TTL_MS = 5 * 60_000;

const chinaDay = (at: number) => chinaDateTime(new Date(at)).slice(0, 10);

export function billRows(
  state: WechatpayState,
  ids: { appid: string; mchid: string },
  date: string,
): WechatBillRow[] {
  const rows: (WechatBillRow & { sortAt: number })[] = [];
  const trades = new Map(state.allTrades().map((trade) => [trade.outTradeNo, trade]));
  const base = (outTradeNo: string) => {
    const trade = trades.get(outTradeNo)!;
    return {
      appid: ids.appid,
      mchid: ids.mchid,
      transactionId: trade.transactionId ?? '',
      outTradeNo: trade.outTradeNo,
      openid: trade.openid ?? '',
      description: trade.description,
      attach: trade.attach ?? '',
      amount: trade.amount,
    };
  };
  for (const trade of trades.values())
    if (trade.successTime !== null && chinaDay(trade.successTime) === date)
      rows.push({
        ...base(trade.outTradeNo),
        at: chinaDateTime(new Date(trade.successTime)),
        sortAt: trade.successTime,
        refund: null,
      });
  for (const refund of state.allRefunds())
    if (refund.status !== 'CLOSED' && chinaDay(refund.createdAt) === date)
      rows.push({
        ...base(refund.outTradeNo),
        at: chinaDateTime(new Date(refund.createdAt)),
        sortAt: refund.createdAt,
        refund: {
          refundId: refund.refundId,
          outRefundNo: refund.outRefundNo,
          amount: refund.amount,
          status: refund.status,
        },
      });
  return rows.sort((a, b) => a.sortAt - b.sortAt).map(({ sortAt: _, ...row }) => row);
}

export function billOf(state: WechatpayState, ids: { appid: string; mchid: string }, date: string): Buffer {
  return Buffer.from(`${[...wechatBillText(billRows(state, ids, date))].join('\r\n')}\r\n`, 'utf8');
}

/** Download tokens handed out by `GET /v3/bill/tradebill`: the bill made then, gzip or not. */
export class BillDownloads {
  private readonly tokens = new Map<string, { bill: Buffer; gzip: boolean; expiresAt: number }>();

  issue(bill: Buffer, gzip: boolean, now: number): string {
    for (const [token, entry] of this.tokens) if (entry.expiresAt <= now) this.tokens.delete(token);
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { bill, gzip, expiresAt: now + TOKEN_TTL_MS });
    return token;
  }

  take(token: string, now: number): { bill: Buffer; gzip: boolean } | undefined {
    const entry = this.tokens.get(token);
    return entry && entry.expiresAt > now ? entry : undefined;
  }
}
