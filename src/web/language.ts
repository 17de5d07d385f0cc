// The language of an HTML request (the `lang` cookie, else Accept-Language) and the switch that sets that cookie, shared by the help page and the console.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { isLocale, LOCALES, type Locale } from '../i18n/catalogue.ts';
import { chooseLocale, LANG_COOKIE } from '../i18n/negotiate.ts';
import type { Translator } from '../i18n/translator.ts';
import { html, type HtmlValue, type SafeHtml } from './html.ts';

/** Needs @fastify/cookie on the instance (both pieces register it). */
export function requestLocale(request: FastifyRequest): Locale {
  const header = request.headers['accept-language'];
  return chooseLocale(request.cookies[LANG_COOKIE], Array.isArray(header) ? header.join(',') : header);
}

/** A local path to go back to: one leading slash, no scheme, no backslash, nothing odd. */
const BACK = /^\/(?![/\\])[A-Za-z0-9/._~%?=&+-]{0,500}$/;

export function safeBack(back: string | undefined, home: string): string {
  return back !== undefined && BACK.test(back) ? back : home;
}

const SwitchQuery = Type.Object({
  to: Type.String({ maxLength: 10 }),
  back: Type.Optional(Type.String({ maxLength: 600 })),
});

/**
 * GET `path?to=ja&back=/tickets/3`: sets `lang` (a known locale only; anything else is refused and sets nothing)
 * and sends the browser back to a local page. A year long, Lax so the link works, HttpOnly: no script needs it.
 */
export function languageSwitch(app: FastifyInstance, options: { path: string; home: string; config?: Record<string, unknown> }): void {
  app.get(options.path, { schema: { querystring: SwitchQuery }, ...(options.config === undefined ? {} : { config: options.config }) }, async (request: FastifyRequest, reply: FastifyReply) => {
    const query = request.query as Type.Static<typeof SwitchQuery>;
    const back = safeBack(query.back, options.home);
    if (!isLocale(query.to)) return reply.redirect(back, 303);
    reply.setCookie(LANG_COOKIE, query.to, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 });
    return reply.redirect(back, 303);
  });
}

/** The other languages' links for a page at `here` (the one in use is left out). */
export function switchTargets(current: Locale, path: string, here: string): { locale: Locale; href: string }[] {
  const back = safeBack(here, '/');
  return LOCALES.filter((l) => l !== current).map((locale) => ({ locale, href: `${path}?to=${locale}&back=${encodeURIComponent(back)}` }));
}

/** A translated page's words, plus `html(key, params)`: the message escaped, its `{name}`s filled with markup (a bold part, a link). */
export interface PageText<K extends string> extends Translator<K> {
  html(key: K, params: Readonly<Record<string, HtmlValue>>): SafeHtml;
}

export function pageText<K extends string>(words: Translator<K>): PageText<K> {
  return {
    ...words,
    html(key, params) {
      const parts = words.raw(key).split(/\{([A-Za-z][A-Za-z0-9_]*)\}/);
      // split with one group: even indexes are text, odd ones placeholder names.
      return html`${parts.map((part, i) => (i % 2 === 0 ? part : Object.hasOwn(params, part) ? params[part] : `{${part}}`))}`;
    },
  };
}
