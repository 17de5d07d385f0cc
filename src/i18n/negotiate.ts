// Which language a browser gets: the `lang` cookie when it names a known locale, else the best of Accept-Language (q-values), else English.
import { DEFAULT_LOCALE, isLocale, LOCALES, type Locale } from './catalogue.ts';

/** The cookie the language switch sets. */
export const LANG_COOKIE = 'lang';
/** Beyond these, a header is noise: only its start is read, and only so many of its entries. */
const MAX_HEADER = 1024;
const MAX_ENTRIES = 32;
const TAG = /^(?:[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)$/;
const QUALITY = /^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i;

export interface LanguageRange { tag: string; q: number }

/** The header's ranges, best first (equal q-values keep their order); malformed entries are skipped. */
export function parseAcceptLanguage(header: string | undefined): LanguageRange[] {
  if (header === undefined) return [];
  const ranges: LanguageRange[] = [];
  for (const entry of header.slice(0, MAX_HEADER).split(',').slice(0, MAX_ENTRIES)) {
    const [rawTag = '', ...rest] = entry.split(';').map((part) => part.trim());
    if (!TAG.test(rawTag)) continue;
    let q = 1;
    if (rest.length > 0) {
      const quality = QUALITY.exec(rest[0] ?? '');
      if (quality === null || rest.length > 1) continue;
      q = Number(quality[1]);
    }
    ranges.push({ tag: rawTag.toLowerCase(), q });
  }
  return ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q);
}

/** The best known locale for the header: `ja-JP` → ja, `*` → English, nothing known → English. */
export function negotiateLocale(header: string | undefined): Locale {
  for (const { tag } of parseAcceptLanguage(header)) {
    if (tag === '*') return DEFAULT_LOCALE;
    const primary = tag.split('-')[0];
    const known = LOCALES.find((l) => l === primary);
    if (known !== undefined) return known;
  }
  return DEFAULT_LOCALE;
}

/** The cookie wins over the header, but only when it names a known locale (anything else is ignored). */
export function chooseLocale(cookie: string | undefined, acceptLanguage: string | undefined): Locale {
  return isLocale(cookie) ? cookie : negotiateLocale(acceptLanguage);
}
