/** The shopper's page of a sandbox trade (wallet opened, QR code scanned, voucher shown). Plain HTML, no scripts. */
import { toDecimalString } from '@payments/core';
import { escapeHtml, sandboxPage } from '@payments/sandbox-kit';
import type { Trade } from './state';

const escape = escapeHtml;
const page = (title: string, body: string) => sandboxPage('Sandbox PSP', title, body);

/** A pay button while the trade can be paid; its state otherwise. */
export function tradePage(trade: Trade, status: string): string {
  const amount = `${trade.currency} ${toDecimalString(trade.amount, trade.currency)}`;
  const head = `<h1>${escape(trade.channel)}</h1><p>Order ${escape(trade.merchantOrderNo)}</p><p class="amount">${escape(amount)}</p>`;
  if (status === 'PAID') return page('Paid', `${head}<p role="status">Paid. Thank you.</p>`);
  if (status !== 'WAITING')
    return page('Closed', `${head}<p role="status">This trade is ${escape(status.toLowerCase())}.</p>`);
  return page(
    'Pay',
    `${head}<form method="post" action="${escape(trade.payPath)}"><button type="submit">Pay ${escape(amount)}</button></form>`,
  );
}

export function errorPage(message: string): string {
  return page('Error', `<h1>Payment error</h1><p>${escape(message)}</p>`);
}
