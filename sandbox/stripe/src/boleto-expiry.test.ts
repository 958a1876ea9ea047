import { boletoVoucherExpiresAt, saoPauloDay } from './boleto-expiry';

const at = (iso: string) => Date.parse(iso) / 1000;

describe("a Boleto voucher's expiry: calendar days in São Paulo, at 23:59:59 there", () => {
  it.each([
    // Issued late in the evening in São Paulo, already the next day in UTC: São Paulo's day counts.
    ['2026-12-02T23:30:00-03:00', 3, '2026-12-05T23:59:59-03:00'],
    ['2026-12-03T02:30:00Z', 3, '2026-12-05T23:59:59-03:00'], // the same instant as above
    // Just before and at São Paulo's midnight.
    ['2026-12-02T23:59:59-03:00', 3, '2026-12-05T23:59:59-03:00'],
    ['2026-12-03T00:00:00-03:00', 3, '2026-12-06T23:59:59-03:00'],
    // Early in the UTC day, still the day before in São Paulo.
    ['2026-12-03T00:30:00Z', 1, '2026-12-03T23:59:59-03:00'],
    // Not 24-hour periods: issued at 08:00, the voucher runs to the last second of the third day.
    ['2026-12-02T08:00:00-03:00', 3, '2026-12-05T23:59:59-03:00'],
    // Zero days: the same day. Across a month's and a year's end.
    ['2026-12-02T10:00:00-03:00', 0, '2026-12-02T23:59:59-03:00'],
    ['2026-12-30T21:15:00-03:00', 3, '2027-01-02T23:59:59-03:00'],
    ['2028-02-27T12:00:00-03:00', 2, '2028-02-29T23:59:59-03:00'],
    // São Paulo kept daylight saving time until 2019 (-02:00 from 2018-11-04): the offset of the last day counts.
    ['2018-11-01T12:00:00-03:00', 3, '2018-11-04T23:59:59-02:00'],
    ['2019-02-15T12:00:00-02:00', 3, '2019-02-18T23:59:59-03:00'],
  ])('issued %s with %i days: payable through %s', (issued, days, expires) => {
    expect(boletoVoucherExpiresAt(at(issued), days)).toBe(at(expires));
  });

  it('is whole seconds, and refuses fractions and negative counts', () => {
    expect(Number.isInteger(boletoVoucherExpiresAt(at('2026-12-02T23:30:00-03:00'), 3))).toBe(true);
    expect(() => boletoVoucherExpiresAt(at('2026-12-02T23:30:00-03:00') + 0.5, 3)).toThrow(RangeError);
    expect(() => boletoVoucherExpiresAt(at('2026-12-02T23:30:00-03:00'), -1)).toThrow(RangeError);
  });

  it("shows the due date as São Paulo's calendar day, not UTC's", () => {
    expect(saoPauloDay(at('2026-12-06T02:59:59Z'))).toBe('2026-12-05');
    expect(saoPauloDay(at('2026-12-06T03:00:00Z'))).toBe('2026-12-06');
  });
});
