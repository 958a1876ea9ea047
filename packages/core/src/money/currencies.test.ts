import { currencyExponent, isIsoCurrency } from './currencies';

describe('ISO 4217 currencies', () => {
  it('knows the exponents of the currencies the providers take', () => {
    expect([currencyExponent('CNY'), currencyExponent('USD'), currencyExponent('BRL')]).toEqual([2, 2, 2]);
    expect([currencyExponent('JPY'), currencyExponent('KRW')]).toEqual([0, 0]);
    expect([currencyExponent('KWD'), currencyExponent('CLF')]).toEqual([3, 4]);
  });

  it('refuses codes that are no currency to pay in, and made-up ones', () => {
    for (const code of ['XXX', 'XTS', 'XAU', 'QZJ', 'cny', 'US']) expect(isIsoCurrency(code)).toBe(false);
    expect(() => currencyExponent('XXX')).toThrow('not an ISO 4217 currency');
  });
});
