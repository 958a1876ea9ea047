/** What the cashier page shows of a pay order: its state now, as the page and its live stream read it. */
import qrcode from 'qrcode-generator';
import { currencyExponent, toDecimalString } from '@payments/core';
import type { CashierOrderView } from './order-views';
import type { GatewayDeps } from '../deps';
import type { CheckoutRow } from './tokens';

export interface CashierState {
  /** Names the order's return address (`/cashier/return/<payOrderNo>`), which carries no token. */
  payOrderNo: string;
  merchantOrderNo: string;
  subject: string;
  amount: number;
  currency: string;
  /** The amount as the shopper reads it: ¥19.99, R$150.00, $19.99, ¥500. */
  amountText: string;
  /** The pay order's status, an unpaid one past its expiry shown as CLOSED (the sweep may lag). */
  status: 'UNPAID' | 'PAYING' | 'PAID' | 'CLOSED';
  expiresAt: string;
  channels: { name: string; label: string }[];
  /** The attempt the shopper is paying with, once it has a pay action. */
  attempt: { channel: string; type: 'qr' | 'redirect'; target: string; qrImage: string | null } | null;
  /** Where the shopper goes back to once paid (the merchant's returnUrl, told the outcome). */
  returnUrl: string | null;
}

/**
 * Exact minor units, formatted for the currency and the shopper's language by the platform's own
 * rules (the string keeps it exact), in the currency's ISO 4217 digits: CLDR shows fewer for some (IDR, HUF, COP, MGA: none;
 * IQD: none of its 3) and would round what the shopper is charged (issue 27.11).
 */
export function amountText(amount: number, currency: string, locale = 'en'): string {
  const digits = currencyExponent(currency);
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(toDecimalString(amount, currency) as unknown as number);
}

/** Codes drawn lately: an open page's stream reads its state every second, the code stays the same. */
const drawn = new Map<string, string>();
const DRAWN_KEPT = 256;

/** A QR code drawn here, as an SVG data URL: the page loads nothing from anyone else. */
export function qrImage(content: string): string {
  const known = drawn.get(content);
  if (known) return known;
  const image = drawQr(content);
  if (drawn.size >= DRAWN_KEPT) drawn.delete(drawn.keys().next().value!);
  drawn.set(content, image);
  return image;
}

function drawQr(content: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(content, 'Byte');
  qr.make();
  return `data:image/svg+xml;base64,${Buffer.from(qr.createSvgTag({ cellSize: 5, margin: 4, scalable: true })).toString('base64')}`;
}

/** The status a viewer sees: an unpaid order past its expiry is CLOSED (the sweep may lag). */
const shownStatus = (order: CashierOrderView['order'], now: Date): CashierState['status'] =>
  (order.status === 'UNPAID' || order.status === 'PAYING') &&
  now.getTime() >= new Date(order.expire_at).getTime()
    ? 'CLOSED'
    : order.status;

/** The merchant's returnUrl, told the outcome. */
const backToShop = (returnUrl: string, merchantOrderNo: string) => {
  const back = new URL(returnUrl);
  back.searchParams.set('merchantOrderNo', merchantOrderNo);
  back.searchParams.set('status', 'PAID');
  return back.toString();
};

/**
 * What the token-free return page (`/cashier/return/<payOrderNo>`) shows: the status, and once
 * paid the way back to the shop. No subject, no amount, no channels, no pay action.
 */
export interface ReturnState {
  payOrderNo: string;
  status: CashierState['status'];
  expiresAt: string;
  channels: [];
  attempt: null;
  returnUrl: string | null;
}

export function returnState(returnUrl: string, view: CashierOrderView, now: Date = new Date()): ReturnState {
  const status = shownStatus(view.order, now);
  return {
    payOrderNo: view.order.pay_order_no,
    status,
    expiresAt: new Date(view.order.expire_at).toISOString(),
    channels: [],
    attempt: null,
    returnUrl: status === 'PAID' ? backToShop(returnUrl, view.order.merchant_order_no) : null,
  };
}

export function cashierState(
  deps: Pick<GatewayDeps, 'channels'>,
  checkout: CheckoutRow,
  { order, attempts }: CashierOrderView,
  now: Date = new Date(),
): CashierState {
  const open = order.status === 'UNPAID' || order.status === 'PAYING';
  const status = shownStatus(order, now);
  const live =
    open && status !== 'CLOSED'
      ? attempts.filter((attempt) => attempt.status === 'PAYING' && attempt.pay_url).at(-1)
      : undefined;
  return {
    payOrderNo: order.pay_order_no,
    merchantOrderNo: order.merchant_order_no,
    subject: order.subject,
    amount: Number(order.amount),
    currency: order.currency,
    amountText: amountText(Number(order.amount), order.currency),
    status,
    expiresAt: new Date(order.expire_at).toISOString(),
    channels: checkout.channels.flatMap((name) => {
      const channel = deps.channels.get(name);
      return channel ? [{ name, label: channel.label }] : [];
    }),
    attempt: live
      ? {
          channel: live.channel,
          type: live.pay_action_type === 'qr' ? 'qr' : 'redirect',
          target: live.pay_url!,
          qrImage: live.pay_action_type === 'qr' ? qrImage(live.pay_url!) : null,
        }
      : null,
    returnUrl: status === 'PAID' ? backToShop(checkout.return_url, order.merchant_order_no) : null,
  };
}
