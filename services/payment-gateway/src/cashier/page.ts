/**
 * The cashier page's HTML: rendered with the order's state (so it reads right before its script
 * runs), then kept live by `/cashier/assets/cashier.js`. Plain HTML, one stylesheet, one script,
 * all from this origin.
 */
import { CATALOGUES, fill, type CashierLocale } from './locales';
import { amountText, type CashierState, type ReturnState } from './view';

const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The page's texts for its script (the status as it changes, the time left), as JSON in a block
 * that is data, never run: the Content-Security-Policy allows no inline script.
 */
function scriptStrings(locale: CashierLocale): string {
  const strings = CATALOGUES[locale];
  const json = JSON.stringify({
    locale,
    status: strings.status,
    applying: strings.applying,
    startFailed: strings.startFailed,
    timeLeft: strings.timeLeft,
  });
  return `<script type="application/json" id="cashier-strings">${json.replace(/</g, '\\u003c')}</script>`;
}

/** The document around a page's `main`: its language, title, stylesheet, texts and script, all from this origin. */
function framed(locale: CashierLocale, title: string, main: string): string {
  return `<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/cashier/assets/cashier.css"></head>
<body>
${main}
${scriptStrings(locale)}
<script src="/cashier/assets/cashier.js"></script>
</body></html>`;
}

/** The order's expiry in the shopper's language (the zone of the server; the script shows the time left in the browser's). */
function payBy(locale: CashierLocale, expiresAt: string): string {
  const when = new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(new Date(expiresAt));
  return fill(CATALOGUES[locale].payBy, { when: `${when} UTC` });
}

export function cashierPage(
  state: CashierState,
  path: string,
  isReturn: boolean,
  locale: CashierLocale = 'en',
): string {
  const strings = CATALOGUES[locale];
  const open = state.status === 'UNPAID' || state.status === 'PAYING';
  const buttons = state.channels
    .map(
      (channel) =>
        `<button type="button" data-channel="${escape(channel.name)}"${open ? '' : ' disabled hidden'}>${escape(channel.label)}</button>`,
    )
    .join('');
  const qr = state.attempt?.type === 'qr' ? state.attempt : null;
  return framed(
    locale,
    fill(strings.title, { subject: state.subject }),
    `<main id="cashier" data-path="${escape(path)}" data-return="${isReturn ? '1' : '0'}" data-order="${escape(state.payOrderNo)}">
<h1 id="subject">${escape(state.subject)}</h1>
<p class="amount" id="amount">${escape(amountText(state.amount, state.currency, locale))}</p>
<p id="status" role="status" aria-live="polite" data-status="${state.status}">${escape(strings.status[state.status])}</p>
<p id="time-left" class="time-left" data-expires-at="${escape(state.expiresAt)}"${open ? '' : ' hidden'}>${escape(payBy(locale, state.expiresAt))}</p>
<p id="paid" class="paid"${state.status === 'PAID' ? '' : ' hidden'}>${escape(strings.paidWarning)}</p>
<div id="channels" role="group" aria-label="${escape(strings.payWith)}">${buttons}</div>
<figure id="qr"${qr ? '' : ' hidden'}><img id="qr-image" alt="${escape(strings.qrAlt)}" src="${qr ? escape(qr.qrImage ?? '') : ''}" data-qr-content="${qr ? escape(qr.target) : ''}"><figcaption>${escape(strings.qrCaption)}</figcaption></figure>
<p id="error" role="alert" hidden></p>
<p id="back"${state.returnUrl ? '' : ' hidden'}><a id="back-link" href="${escape(state.returnUrl ?? '')}">${escape(strings.backToShop)}</a></p>
</main>`,
  );
}

/**
 * The page a provider sends the shopper back to, with no token in its address: the status, live,
 * and once paid the way back to the shop. The script takes the shopper on to the cashier itself
 * when this tab came from it (it keeps the cashier's address for the order in sessionStorage).
 */
export function returnPage(state: ReturnState, path: string, locale: CashierLocale = 'en'): string {
  const strings = CATALOGUES[locale];
  const shown = state.status === 'UNPAID' ? 'PAYING' : state.status;
  return framed(
    locale,
    strings.returnTitle,
    `<main id="cashier" data-path="${escape(path)}" data-return="1" data-order="${escape(state.payOrderNo)}" data-tokenless="1">
<h1 id="subject">${escape(strings.returnTitle)}</h1>
<p id="status" role="status" aria-live="polite" data-status="${state.status}">${escape(strings.status[shown])}</p>
<p id="paid" class="paid"${state.status === 'PAID' ? '' : ' hidden'}>${escape(strings.paidWarning)}</p>
<div id="channels" role="group" aria-label="${escape(strings.payWith)}"></div>
<figure id="qr" hidden><img id="qr-image" alt="" data-qr-content=""></figure>
<p id="error" role="alert" hidden></p>
<p id="back"${state.returnUrl ? '' : ' hidden'}><a id="back-link" href="${escape(state.returnUrl ?? '')}">${escape(strings.backToShop)}</a></p>
</main>`,
  );
}

export function goneCashierPage(status: 404 | 410, locale: CashierLocale = 'en'): string {
  const strings = CATALOGUES[locale];
  const text = status === 410 ? strings.gone410 : strings.gone404;
  return `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${escape(text)}</title></head><body><main><h1>${escape(text)}</h1></main></body></html>`;
}
