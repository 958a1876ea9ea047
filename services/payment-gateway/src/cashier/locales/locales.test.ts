import { CASHIER_LOCALES, CATALOGUES, fill, fromAcceptLanguage, pickLocale } from '.';
import { amountText } from '../view';

describe('the cashier speaks the shopper’s language', () => {
  it.each([
    ['zh-CN,zh;q=0.9,en;q=0.8', 'zh-CN'],
    ['zh', 'zh-CN'],
    ['zh-Hans-SG', 'zh-CN'],
    ['zh-TW,en;q=0.5', 'en'], // Traditional Chinese is not ours: the next language the browser takes
    ['zh-Hant-HK', undefined],
    ['pt-BR,pt;q=0.9', 'pt-BR'],
    ['pt-PT', 'pt-BR'],
    ['de-DE,en-GB;q=0.7', 'en'],
    ['en;q=0.3, pt-BR;q=0.8', 'pt-BR'],
    ['fr, *;q=0.1', undefined],
    ['zh-CN;q=0', undefined],
    ['', undefined],
  ])('Accept-Language %j → %s', (header, locale) => {
    expect(fromAcceptLanguage(header)).toBe(locale);
  });

  it('the checkout’s locale first, then the browser, then the currency, then English', () => {
    expect(pickLocale({ requested: 'pt-BR', acceptLanguage: 'zh-CN', currency: 'CNY' })).toBe('pt-BR');
    expect(pickLocale({ requested: 'xx', acceptLanguage: 'zh-CN', currency: 'USD' })).toBe('zh-CN');
    expect(pickLocale({ acceptLanguage: 'fr', currency: 'CNY' })).toBe('zh-CN');
    expect(pickLocale({ currency: 'BRL' })).toBe('pt-BR');
    expect(pickLocale({ acceptLanguage: 'en-US', currency: 'CNY' })).toBe('en');
    expect(pickLocale({ currency: 'USD' })).toBe('en');
  });

  it('every catalogue has every text, none empty, with the same placeholders as English', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
    const flat = (value: object, prefix = ''): [string, string][] =>
      Object.entries(value).flatMap(([key, text]) =>
        typeof text === 'string'
          ? [[`${prefix}${key}`, text] as [string, string]]
          : flat(text as object, `${key}.`),
      );
    const english = new Map(flat(CATALOGUES.en));
    for (const locale of CASHIER_LOCALES) {
      const texts = flat(CATALOGUES[locale]);
      expect([locale, texts.map(([key]) => key).sort()]).toEqual([locale, [...english.keys()].sort()]);
      for (const [key, text] of texts) {
        expect([locale, key, text.trim().length > 0]).toEqual([locale, key, true]);
        expect([locale, key, placeholders(text)]).toEqual([locale, key, placeholders(english.get(key)!)]);
      }
    }
    expect(fill(CATALOGUES['zh-CN'].timeLeft, { time: '4:59' })).toBe('剩余支付时间：4:59');
  });

  it('amounts in the shopper’s format, exact to the currency’s ISO digits', () => {
    expect(amountText(1999, 'CNY', 'zh-CN')).toBe('¥19.99');
    expect(amountText(15000, 'BRL', 'pt-BR').replace(/\s/g, ' ')).toBe('R$ 150,00');
    expect(amountText(1999, 'USD', 'en')).toBe('$19.99');
    expect(amountText(1234567, 'IDR', 'pt-BR').replace(/\s/g, ' ')).toBe('IDR 12.345,67');
  });
});
