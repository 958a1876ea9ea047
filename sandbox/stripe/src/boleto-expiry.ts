/**
 * When a Boleto voucher stops being payable, as Stripe counts it: `expires_after_days` calendar days
 * after the voucher is issued (the day it is issued counts as day 0), at 23:59:59 in São Paulo
 * ("created on Monday with 2: expires on Wednesday at 23:59 America/Sao_Paulo time"). Calendar days in
 * São Paulo, not 24-hour periods and not UTC days: a voucher issued at 22:30 in São Paulo (01:30 UTC
 * the next day) counts from the São Paulo day. Whole seconds throughout: no fractions.
 */
export const BOLETO_TIME_ZONE = 'America/Sao_Paulo';
/** Stripe's default `payment_method_options.boleto.expires_after_days`. */
export const BOLETO_DEFAULT_EXPIRES_AFTER_DAYS = 3;

const wallClock = new Intl.DateTimeFormat('en-US', {
  timeZone: BOLETO_TIME_ZONE,
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
  hourCycle: 'h23',
});

/** São Paulo's wall clock at an instant, written as the UTC instant that shows the same fields (ms). */
function saoPauloFieldsMs(atMs: number): number {
  const field: Record<string, number> = {};
  for (const part of wallClock.formatToParts(new Date(atMs)))
    if (part.type !== 'literal') field[part.type] = Number(part.value);
  return Date.UTC(field.year!, field.month! - 1, field.day!, field.hour!, field.minute!, field.second!);
}

/** The voucher's expiry (epoch seconds) for one issued at `issuedAtS` with `expiresAfterDays`. */
export function boletoVoucherExpiresAt(issuedAtS: number, expiresAfterDays: number): number {
  if (!Number.isSafeInteger(issuedAtS) || !Number.isSafeInteger(expiresAfterDays) || expiresAfterDays < 0)
    throw new RangeError(`not a voucher issue time and day count: ${issuedAtS}, ${expiresAfterDays}`);
  const issued = new Date(saoPauloFieldsMs(issuedAtS * 1000));
  // 23:59:59 on the last calendar day, as São Paulo's wall clock shows it...
  const target = Date.UTC(
    issued.getUTCFullYear(),
    issued.getUTCMonth(),
    issued.getUTCDate() + expiresAfterDays,
    23,
    59,
    59,
  );
  // ...and the instant at which it shows that: the target less São Paulo's offset, read at a first
  // guess and again at the instant that gives, so the offset of that very day counts (São Paulo kept
  // daylight saving time until 2019).
  let instant = target - (saoPauloFieldsMs(target) - target);
  instant = target - (saoPauloFieldsMs(instant) - instant);
  return instant / 1000;
}

/** The São Paulo calendar day (`YYYY-MM-DD`) of an instant, as a voucher shows its due date. */
export function saoPauloDay(atS: number): string {
  return new Date(saoPauloFieldsMs(atS * 1000)).toISOString().slice(0, 10);
}
