/**
 * Amounts as statements write them, to integer minor units exactly: signed (`-19.99`, refunds
 * and returned fees), and with more decimals than the currency has (WeChat Pay's fees, `0.11994`).
 */
import { currencyExponent, fromDecimalString } from '@payments/core';

/** `"-19.99"` → `-1999` (CNY); refuses more decimals than the currency has. */
export function signedMinorUnits(text: string, currency: string): number {
  const negative = text.startsWith('-');
  const value = fromDecimalString(negative ? text.slice(1) : text, currency);
  return negative ? -value : value;
}

/**
 * A decimal with any number of decimals (`"0.11994"`, `"-0.00600"`) in minor units: exact when it
 * is a whole number of them, else rounded half away from zero (`0.11994` yuan → 12 fen, `0.00600`
 * → 1 fen); `exact` says which, and `text` keeps what the statement wrote.
 */
export function roundedMinorUnits(text: string, currency: string): { value: number; exact: boolean } {
  const match = /^(-?)(\d{1,16})(?:\.(\d{1,12}))?$/.exec(text);
  if (!match) throw new RangeError(`not a decimal amount: "${text}"`);
  const exponent = currencyExponent(currency);
  const decimals = match[3] ?? '';
  const kept = decimals.slice(0, exponent).padEnd(exponent, '0');
  const dropped = decimals.slice(exponent);
  let value = Number(`${match[2]}${kept}`);
  const exact = /^0*$/.test(dropped);
  if (!exact && dropped[0]! >= '5') value += 1;
  if (!Number.isSafeInteger(value)) throw new RangeError(`amount too large: "${text}"`);
  return { value: match[1] === '-' ? -value : value, exact };
}
