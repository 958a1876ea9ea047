/**
 * The cashier's tokens (CONTRACT 10): 256 random bits, base64url, bound to one pay order; the only
 * credential a shopper's browser holds. Only their SHA-256 is stored; logs show a prefix.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from '@payments/platform';

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function mintToken(): string {
  return randomBytes(32).toString('base64url');
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** A token's first characters, enough to tell two apart in a log, never enough to use. */
export function tokenHint(token: string): string {
  return `${token.slice(0, 6)}…`;
}

/** Any `/cashier/<token>` in a URL, cut to its hint (for logs). */
export function redactCashierPath(url: string): string {
  return url.replace(/\/cashier\/([A-Za-z0-9_-]{6})[A-Za-z0-9_-]+/g, '/cashier/$1…');
}

export interface CheckoutRow {
  pay_order_id: number;
  channels: string[];
  return_url: string;
  /** The language the merchant asked the page in (`locale` of the checkout), if any. */
  locale: string | null;
}

export async function storeToken(
  dataSource: DataSource,
  token: string,
  payOrderId: number,
  channels: readonly string[],
  returnUrl: string,
  locale: string | null = null,
): Promise<void> {
  await dataSource.query(
    'INSERT INTO checkout_token (token_hash, pay_order_id, channels, return_url, locale) VALUES (?, ?, ?, ?, ?)',
    [hashOf(token), payOrderId, channels.join(','), returnUrl, locale],
  );
}

/** A pay order number as `newNumber('po')` makes them (`po_` + time + 64 random bits). */
export const PAY_ORDER_NO_PATTERN = /^po_[0-9a-z]{8,36}$/;

export interface ReturnRow {
  pay_order_id: number;
  /** The merchant's, of the order's latest checkout. */
  return_url: string;
  locale: string | null;
}

/**
 * The order a provider's return address names (`/cashier/return/<payOrderNo>`, issue 27.7), if a
 * checkout made it: that address grants its status and the way back to the shop, nothing more.
 */
export async function findReturn(dataSource: DataSource, payOrderNo: string): Promise<ReturnRow | undefined> {
  if (!PAY_ORDER_NO_PATTERN.test(payOrderNo)) return undefined;
  const [row] = (await dataSource.query(
    `SELECT c.pay_order_id, c.return_url, c.locale FROM pay_order p JOIN checkout_token c ON c.pay_order_id = p.id
      WHERE p.pay_order_no = ? ORDER BY c.created_at DESC LIMIT 1`,
    [payOrderNo],
  )) as ReturnRow[];
  return row;
}

/** The checkout a well-formed token names, or undefined. */
export async function findToken(dataSource: DataSource, token: string): Promise<CheckoutRow | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const [row] = (await dataSource.query(
    'SELECT pay_order_id, channels, return_url, locale FROM checkout_token WHERE token_hash = ?',
    [hashOf(token)],
  )) as { pay_order_id: number; channels: string; return_url: string; locale: string | null }[];
  return row && { ...row, channels: row.channels.split(',').filter(Boolean) };
}
