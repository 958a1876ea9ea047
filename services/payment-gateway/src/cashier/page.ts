/**
 * The cashier page's HTML: rendered with the order's state (so it reads right before its script
 * runs), then kept live by `/cashier/assets/cashier.js`. Plain HTML, one stylesheet, one script,
 * all from this origin.
 */
import type { CashierState, ReturnState } from './view';

const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export const STATUS_TEXT: Record<CashierState['status'], string> = {
  UNPAID: 'Choose how to pay.',
  PAYING: 'Waiting for your payment…',
  PAID: 'Paid. Thank you.',
  CLOSED: 'This order is closed or has expired. Nothing can be paid.',
};

export function cashierPage(state: CashierState, path: string, isReturn: boolean): string {
  const open = state.status === 'UNPAID' || state.status === 'PAYING';
  const buttons = state.channels
    .map(
      (channel) =>
        `<button type="button" data-channel="${escape(channel.name)}"${open ? '' : ' disabled hidden'}>${escape(channel.label)}</button>`,
    )
    .join('');
  const qr = state.attempt?.type === 'qr' ? state.attempt : null;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Pay: ${escape(state.subject)}</title>
<link rel="stylesheet" href="/cashier/assets/cashier.css"></head>
<body>
<main id="cashier" data-path="${escape(path)}" data-return="${isReturn ? '1' : '0'}" data-order="${escape(state.payOrderNo)}">
<h1 id="subject">${escape(state.subject)}</h1>
<p class="amount" id="amount">${escape(state.amountText)}</p>
<p id="status" role="status" aria-live="polite" data-status="${state.status}">${escape(STATUS_TEXT[state.status])}</p>
<p id="paid" class="paid"${state.status === 'PAID' ? '' : ' hidden'}>This order is already paid, please do not pay again.</p>
<div id="channels" role="group" aria-label="Pay with">${buttons}</div>
<figure id="qr"${qr ? '' : ' hidden'}><img id="qr-image" alt="QR code: scan it with the app to pay" src="${qr ? escape(qr.qrImage ?? '') : ''}" data-qr-content="${qr ? escape(qr.target) : ''}"><figcaption>Scan with your phone to pay. Keep this page open.</figcaption></figure>
<p id="error" role="alert" hidden></p>
<p id="back"${state.returnUrl ? '' : ' hidden'}><a id="back-link" href="${escape(state.returnUrl ?? '')}">Back to the shop</a></p>
</main>
<script src="/cashier/assets/cashier.js"></script>
</body></html>`;
}

/**
 * The page a provider sends the shopper back to, with no token in its address: the status, live,
 * and once paid the way back to the shop. The script takes the shopper on to the cashier itself
 * when this tab came from it (it keeps the cashier's address for the order in sessionStorage).
 */
export function returnPage(state: ReturnState, path: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Your payment</title>
<link rel="stylesheet" href="/cashier/assets/cashier.css"></head>
<body>
<main id="cashier" data-path="${escape(path)}" data-return="1" data-order="${escape(state.payOrderNo)}" data-tokenless="1">
<h1 id="subject">Your payment</h1>
<p id="status" role="status" aria-live="polite" data-status="${state.status}">${escape(state.status === 'UNPAID' ? STATUS_TEXT.PAYING : STATUS_TEXT[state.status])}</p>
<p id="paid" class="paid"${state.status === 'PAID' ? '' : ' hidden'}>This order is already paid, please do not pay again.</p>
<div id="channels" role="group" aria-label="Pay with"></div>
<figure id="qr" hidden><img id="qr-image" alt="" data-qr-content=""></figure>
<p id="error" role="alert" hidden></p>
<p id="back"${state.returnUrl ? '' : ' hidden'}><a id="back-link" href="${escape(state.returnUrl ?? '')}">Back to the shop</a></p>
</main>
<script src="/cashier/assets/cashier.js"></script>
</body></html>`;
}

export function goneCashierPage(status: 404 | 410): string {
  const text = status === 410 ? 'This payment page has expired.' : 'There is no such payment page.';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${text}</title></head><body><main><h1>${text}</h1></main></body></html>`;
}
