/**
 * The sandbox's bill of a day (China time), built from its own ledger: every trade paid that day
 * and every refund made that day (failed refunds moved nothing and are not in it). Download links
 * live 30 s, as Alipay's `bill_download_url` does.
 */
import { randomBytes } from 'node:crypto';
import { chinaDateTime } from '@payments/providers';
import { alipayBill, type AlipayBillRow } from './bill';
import type { AlipayState } from './state';

/** The sandbox merchant's Alipay account (a PID's shape). */
export const SANDBOX_ALIPAY_ACCOUNT = '2088000000000001';
const LINK_TTL_MS = 30_000;
const chinaDay = (at: number) => chinaDateTime(new Date(at)).slice(0, 10);

export function billRows(state: AlipayState, date: string): AlipayBillRow[] {
  const rows: (AlipayBillRow & { sortAt: number })[] = [];
  const trades = new Map(state.allTrades().map((trade) => [trade.outTradeNo, trade]));
  for (const trade of trades.values())
    if (trade.paidAt !== null && chinaDay(trade.paidAt) === date)
      rows.push({
        tradeNo: trade.tradeNo,
        outTradeNo: trade.outTradeNo,
        subject: trade.subject,
        createdAt: chinaDateTime(new Date(trade.createdAt)),
        finishedAt: chinaDateTime(new Date(trade.paidAt)),
        amount: trade.amount,
        refund: null,
        sortAt: trade.paidAt,
      });
  for (const refund of state.allRefunds()) {
    const trade = trades.get(refund.outTradeNo);
    if (!trade || refund.status !== 'SUCCESS' || chinaDay(refund.at) !== date) continue;
    rows.push({
      tradeNo: trade.tradeNo,
      outTradeNo: trade.outTradeNo,
      subject: trade.subject,
      createdAt: chinaDateTime(new Date(refund.at)),
      finishedAt: chinaDateTime(new Date(refund.at)),
      amount: trade.amount,
      refund: { outRequestNo: refund.outRequestNo, amount: refund.amount },
      sortAt: refund.at,
    });
  }
  return rows.sort((a, b) => a.sortAt - b.sortAt).map(({ sortAt: _, ...row }) => row);
}

/** Links handed out by the bill query: the zip made then. */
export class BillLinks {
  private readonly links = new Map<string, { zip: Buffer; expiresAt: number }>();

  issue(zip: Buffer, now: number): string {
    for (const [token, link] of this.links) if (link.expiresAt <= now) this.links.delete(token);
    const token = randomBytes(16).toString('hex');
    this.links.set(token, { zip, expiresAt: now + LINK_TTL_MS });
    return token;
  }

  take(token: string, now: number): Buffer | undefined {
    const link = this.links.get(token);
    return link && link.expiresAt > now ? link.zip : undefined;
  }
}

export const billOf = (state: AlipayState, date: string) =>
  alipayBill(billRows(state, date), SANDBOX_ALIPAY_ACCOUNT, date);
