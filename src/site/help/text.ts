// The help page's words for one request: its locale (the `lang` cookie, else Accept-Language) and the catalogue of that locale.
import type { FastifyRequest } from 'fastify';
import type { Locale } from '../../i18n/catalogue.ts';
import { translator, type Catalogues } from '../../i18n/translator.ts';
import { pageText, requestLocale, type PageText } from '../../web/language.ts';
import { en, type HelpKey } from './messages/en.ts';
import { ja } from './messages/ja.ts';

export type { HelpKey };
export type HelpText = PageText<HelpKey>;

export const HELP_MESSAGES: Catalogues<HelpKey> = { en, ja };

const made = new Map<Locale, HelpText>();

/** The help page's words in a locale (dates in UTC, the gateway's clock as the page has always shown). */
export function helpText(locale: Locale): HelpText {
  let text = made.get(locale);
  if (text === undefined) {
    text = pageText(translator(HELP_MESSAGES, locale, 'UTC'));
    made.set(locale, text);
  }
  return text;
}

export function helpTextFor(request: FastifyRequest): HelpText {
  return helpText(requestLocale(request));
}

/** The page's own words for a stable error code (`error.CODE` in the catalogue), or null when it has none. */
export function codeText(t: HelpText, code: string): string | null {
  const key = `error.${code}`;
  return Object.hasOwn(en, key) ? t.t(key as HelpKey) : null;
}

const ENGLISH = new Map<string, HelpKey>(Object.entries(en).map(([key, text]) => [text, key as HelpKey]));

/** An error the page threw in the catalogue's English words (`new KeyholeError(code, HELP_ENGLISH[key])`), said in the page's language. */
export function ownErrorText(t: HelpText, message: string): string | null {
  const key = ENGLISH.get(message);
  return key === undefined ? null : t.t(key);
}

/** The English catalogue, for errors the page throws and later shows in the reader's language. */
export const HELP_ENGLISH = en;

/** The path of the language switch (lan-server.ts mounts it). */
export const HELP_LANG_PATH = '/lang';
