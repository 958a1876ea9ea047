import { amountText } from './view';

describe('the amount the cashier shows', () => {
  it.each([
    // CLDR gives these fewer digits than ISO 4217: the shopper still reads the exact amount charged.
    [1234567, 'IDR', 'IDR 12,345.67'],
    [1234567, 'HUF', 'HUF 12,345.67'],
    [1234567, 'COP', 'COP 12,345.67'],
    [1234567, 'MGA', 'MGA 12,345.67'],
    [12345678, 'IQD', 'IQD 12,345.678'],
    [50, 'IDR', 'IDR 0.50'],
    // Where CLDR and ISO agree, as before.
    [1999, 'CNY', 'CN¥19.99'],
    [15000, 'BRL', 'R$150.00'],
    [500, 'JPY', '¥500'],
    [1234, 'KWD', 'KWD 1.234'],
  ])('%d minor units of %s read %s', (amount, currency, text) => {
    expect(amountText(amount, currency).replace(/\u00a0/g, ' ')).toBe(text);
  });
});
