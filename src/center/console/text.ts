// The console's words for one request: its locale (the `lang` cookie, else Accept-Language) and the catalogue of that locale.
import type { FastifyRequest } from 'fastify';
import type { Locale } from '../../i18n/catalogue.ts';
import { translator, type Catalogues } from '../../i18n/translator.ts';
import { pageText, requestLocale, type PageText } from '../../web/language.ts';
import { en, type ConsoleKey } from './messages/en.ts';
import { ja } from './messages/ja.ts';

export type { ConsoleKey };
export type ConsoleText = PageText<ConsoleKey>;

export const CONSOLE_MESSAGES: Catalogues<ConsoleKey> = { en, ja };

const made = new Map<Locale, ConsoleText>();

/** The console's words in a locale (dates in UTC, as the console has always shown them). */
export function consoleText(locale: Locale): ConsoleText {
  let text = made.get(locale);
  if (text === undefined) {
    text = pageText(translator(CONSOLE_MESSAGES, locale, 'UTC'));
    made.set(locale, text);
  }
  return text;
}

export function consoleTextFor(request: FastifyRequest): ConsoleText {
  return consoleText(requestLocale(request));
}

/** The console's own words for a stable error code (`error.CODE` in the catalogue), or null when it has none. */
export function codeText(t: ConsoleText, code: string): string | null {
  const key = `error.${code}`;
  return Object.hasOwn(en, key) ? t.t(key as ConsoleKey) : null;
}

/** The path of the console's language switch (console-plugin.ts mounts it). */
export const CONSOLE_LANG_PATH = '/console/lang';
