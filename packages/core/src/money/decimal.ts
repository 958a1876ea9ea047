import { currencyExponent } from './currencies';

/**
 * Minor units ↔ a provider's decimal string, exactly (string arithmetic, never floats):
 * `toDecimalString(1999, 'CNY')` → `"19.99"`, `fromDecimalString("19.99", 'CNY')` → `1999`.
 */
export function toDecimalString(minorUnits: number, currency: string): string {
  if (!Number.isSafeInteger(minorUnits) || minorUnits < 0)
    throw new RangeError(`amount must be a non-negative safe integer of minor units, got ${minorUnits}`);
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(minorUnits);
  const digits = String(minorUnits).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * Parses a provider's decimal amount into minor units. Refuses anything that is not a plain
 * non-negative decimal with at most the currency's digits (`"1e3"`, `"-1"`, `"0.001"` for CNY).
 */
export function fromDecimalString(text: string, currency: string): number {
  const exponent = currencyExponent(currency);
  const match = /^(\d{1,16})(?:\.(\d+))?$/.exec(text);
  if (!match || (match[2] ?? '').length > exponent)
    throw new RangeError(`not an amount of ${currency} with at most ${exponent} decimals: "${text}"`);
  const value = Number(`${match[1]}${(match[2] ?? '').padEnd(exponent, '0')}`);
  if (!Number.isSafeInteger(value)) throw new RangeError(`amount too large: "${text}"`);
  return value;
}
