import { fromDecimalString, toDecimalString } from './decimal';

describe('decimal strings at a provider edge', () => {
  it.each([
    [1, 'CNY', '0.01'],
    [99, 'CNY', '0.99'],
    [100, 'CNY', '1.00'],
    [1999, 'CNY', '19.99'],
    [1e12, 'CNY', '10000000000.00'],
    [Number.MAX_SAFE_INTEGER, 'CNY', '90071992547409.91'],
    [500, 'JPY', '500'],
    [1234, 'KWD', '1.234'],
  ])('%i minor units of %s ↔ "%s"', (minor, currency, text) => {
    expect(toDecimalString(minor, currency)).toBe(text);
    expect(fromDecimalString(text, currency)).toBe(minor);
  });

  it('reads amounts with fewer decimals than the currency has', () => {
    expect(fromDecimalString('19.9', 'CNY')).toBe(1990);
    expect(fromDecimalString('20', 'CNY')).toBe(2000);
  });

  it.each(['', '1e3', '-1', '0.001', '1,00', ' 1.00', '0x10', '1.', '.5', '99999999999999999.00'])(
    'refuses "%s"',
    (text) => expect(() => fromDecimalString(text, 'CNY')).toThrow(RangeError),
  );

  it('refuses what is not a non-negative safe integer', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53])
      expect(() => toDecimalString(bad, 'CNY')).toThrow(RangeError);
  });
});
