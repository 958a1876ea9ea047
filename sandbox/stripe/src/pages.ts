/** The shopper's pages: the hosted Checkout stand-in and the Boleto voucher. Plain HTML, no scripts. */
import { toDecimalString } from '@payments/core';
import { escapeHtml, sandboxPage } from '@payments/sandbox-kit';
import { saoPauloDay } from './boleto-expiry';
import type { Intent, Session } from './state';

const escape = escapeHtml;
const page = (title: string, body: string) => sandboxPage('Stripe sandbox', title, body);

export const amountText = (amount: number, currency: string) =>
  `${currency.toUpperCase()} ${toDecimalString(amount, currency.toUpperCase())}`;

/** The Checkout page of a session: pay by card, or get a Boleto voucher; its state once it has one. */
export function sessionPage(session: Session, intent: Intent | undefined): string {
  const amount = amountText(session.amount, session.currency);
  const head = `<h1>${escape(session.name)}</h1><p class="amount">${escape(amount)}</p>`;
  if (session.status === 'expired')
    return page('Expired', `${head}<p role="status">This checkout session has expired.</p>`);
  if (session.paid) return page('Paid', `${head}<p role="status">Paid. Thank you.</p>`);
  if (session.status === 'complete' && intent)
    return page(
      'Voucher issued',
      `${head}<p role="status">A Boleto voucher was issued.</p><p><a href="/voucher/${escape(intent.id)}">See the voucher</a></p>`,
    );
  const action = `/c/pay/${encodeURIComponent(session.id)}/${session.method}`;
  if (session.method === 'card')
    return page(
      'Pay',
      `${head}<form method="post" action="${escape(action)}"><label>Card number <input name="card" value="4242 4242 4242 4242" autocomplete="off"></label><button type="submit">Pay ${escape(amount)}</button></form>`,
    );
  return page(
    'Boleto',
    `${head}<form method="post" action="${escape(action)}"><label>CPF or CNPJ <input name="tax_id" required inputmode="numeric" value="000.000.000-00"></label><button type="submit">Get the Boleto voucher</button></form>`,
  );
}

/** The hosted voucher: its number, its expiry, and (as the bank would) a way to pay it. */
export function voucherPage(session: Session, intent: Intent): string {
  const amount = amountText(intent.amount, intent.currency);
  const head = `<h1>Boleto: ${escape(session.name)}</h1><p class="amount">${escape(amount)}</p>`;
  const back = `<p><a href="${escape(session.successUrl.replace('{CHECKOUT_SESSION_ID}', session.id))}">Back to the shop</a></p>`;
  if (intent.status === 'succeeded')
    return page('Voucher paid', `${head}<p role="status">This voucher is paid.</p>${back}`);
  if (intent.status !== 'requires_action')
    return page('Voucher expired', `${head}<p role="status">This voucher expired unpaid.</p>${back}`);
  // Its due date is São Paulo's calendar day (23:59 there), not the UTC one.
  const expires = saoPauloDay(intent.voucher?.expiresAt ?? 0);
  return page(
    'Voucher',
    `${head}<p>Number: <code>${escape(intent.voucher?.number ?? '')}</code></p><p>Pay by ${escape(expires)} 23:59 (São Paulo time) at any bank.</p><form method="post" action="/voucher/${escape(intent.id)}/pay"><button type="submit">Pay this voucher (as the bank)</button></form>${back}`,
  );
}

export function errorPage(code: string, message: string): string {
  return page('Error', `<h1>Checkout error</h1><p>${escape(code)}: ${escape(message)}</p>`);
}
