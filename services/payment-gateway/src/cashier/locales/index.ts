/**
 * The cashier's languages (issue 31.3): Simplified Chinese for Alipay and WeChat Pay shoppers,
 * Brazilian Portuguese for Boleto, English otherwise. One catalogue per language; `pickLocale`
 * chooses: the checkout's `locale` if the merchant gave one, else the best of the browser's
 * `Accept-Language` we speak, else the order's currency (CNY: Chinese, BRL: Portuguese), else English.
 */
import { en } from './en';
import { ptBR } from './pt-BR';
import type { CashierStrings } from './strings';
import { zhCN } from './zh-CN';

export type { CashierStrings } from './strings';

export const CASHIER_LOCALES = ['en', 'zh-CN', 'pt-BR'] as const;
export type CashierLocale = (typeof CASHIER_LOCALES)[number];

export const CATALOGUES: Readonly<Record<CashierLocale, CashierStrings>> = {
  en,
  'zh-CN': zhCN,
  'pt-BR': ptBR,
};

/** The language we speak for one `Accept-Language` tag; undefined when none (Traditional Chinese included). */
function spoken(tag: string): CashierLocale | undefined {
  const [language, ...subtags] = tag.toLowerCase().split('-');
  switch (language) {
    case 'en':
      return 'en';
    case 'pt':
      return 'pt-BR';
    case 'zh': {
      // Simplified only: zh, zh-CN, zh-SG, zh-Hans-*; not zh-TW, zh-HK, zh-MO, zh-Hant-*.
      if (subtags.includes('hant') || subtags.some((subtag) => ['tw', 'hk', 'mo'].includes(subtag)))
        return undefined;
      return 'zh-CN';
    }
    default:
      return undefined;
  }
}

/** `Accept-Language` by preference (q-values; ties keep their order), as the languages we speak. */
export function fromAcceptLanguage(header: string | undefined): CashierLocale | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((param) => /^\s*q=([0-9.]+)\s*$/.exec(param)?.[1]).find(Boolean);
      return { tag: tag!.trim(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.tag && entry.tag !== '*' && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    const locale = spoken(tag);
    if (locale) return locale;
  }
  return undefined;
}

export function pickLocale(options: {
  requested?: string | null;
  acceptLanguage?: string;
  /** The order's currency, where the page knows it. */
  currency?: string;
}): CashierLocale {
  const requested = CASHIER_LOCALES.find((locale) => locale === options.requested);
  if (requested) return requested;
  const accepted = fromAcceptLanguage(options.acceptLanguage);
  if (accepted) return accepted;
  if (options.currency === 'CNY') return 'zh-CN';
  if (options.currency === 'BRL') return 'pt-BR';
  return 'en';
}

/** A catalogue text with its `{name}` placeholders filled. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
