/** The shopper's pages: what WeChat shows once the QR code is scanned, and the result. Plain HTML, no scripts. */
import { toDecimalString } from '@payments/core';
import { escapeHtml, sandboxPage } from '@payments/sandbox-kit';
import type { Trade } from './state';

const escape = escapeHtml;
const page = (title: string, body: string) => sandboxPage('WeChat Pay sandbox', title, body);

/** The scanned order: a pay button while it can be paid, its state otherwise. */
export function tradePage(trade: Trade, payable: boolean): string {
  const amount = `¥${toDecimalString(trade.amount, 'CNY')}`;
  const head = `<h1>${escape(trade.description)}</h1><p class="amount">${escape(amount)}</p>`;
  if (trade.state === 'SUCCESS' || trade.state === 'REFUND')
    return page('Paid', `${head}<p role="status">Paid. Thank you.</p>`);
  if (!payable) return page('Closed', `${head}<p role="status">This order is closed or expired.</p>`);
  const action = `/pay/${encodeURIComponent(trade.prepayToken)}`;
  return page(
    'Pay',
    `${head}<form method="post" action="${escape(action)}"><button type="submit">Pay ${escape(amount)}</button></form>`,
  );
}

export function errorPage(code: string, message: string): string {
  return page('Error', `<h1>Payment error</h1><p>${escape(code)}: ${escape(message)}</p>`);
}
