/** The shopper's page of a sandbox trade (wallet opened, QR code scanned, voucher shown). Plain HTML, no scripts. */
import { toDecimalString } from '@payments/common';
import type { Trade } from './state';

const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Sandbox PSP</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
.amount{font-size:2rem}button{font-size:1.2rem;padding:.6rem 2rem}</style></head>
<body><p><small>Sandbox PSP: test money only</small></p>${body}</body></html>`;
}

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
