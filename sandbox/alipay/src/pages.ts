/** The shopper's pages: the QR code once scanned, the page-pay cashier, the result. Plain HTML, no scripts. */
import { toDecimalString } from '@payments/core';
import { escapeHtml, sandboxPage } from '@payments/sandbox-kit';
import type { Trade, TradeStatus } from './state';

const escape = escapeHtml;
const page = (title: string, body: string) => sandboxPage('Alipay sandbox', title, body);

/** The cashier of a trade: pay button while it can be paid, its state otherwise. */
export function tradePage(trade: Trade, status: TradeStatus): string {
  const amount = `¥${toDecimalString(trade.amount, 'CNY')}`;
  const head = `<h1>${escape(trade.subject)}</h1><p class="amount">${escape(amount)}</p>`;
  if (status === 'TRADE_SUCCESS') return page('Paid', `${head}<p role="status">Paid. Thank you.</p>`);
  if (status === 'TRADE_CLOSED')
    return page('Closed', `${head}<p role="status">This trade is closed or expired.</p>`);
  const action = `/pay/${encodeURIComponent(trade.outTradeNo)}`;
  return page(
    'Pay',
    `${head}<form method="post" action="${escape(action)}"><button type="submit">Pay ${escape(amount)}</button></form>`,
  );
}

export function errorPage(code: string, message: string): string {
  return page('Error', `<h1>Payment error</h1><p>${escape(code)}: ${escape(message)}</p>`);
}
