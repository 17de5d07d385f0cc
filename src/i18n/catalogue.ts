// Message catalogues: the known locales, `{name}` interpolation (no plurals) and the check that holds a language's catalogue to English's keys and placeholders.

/** The languages keyhole speaks; the first is the fallback for anything unknown. */
export const LOCALES = ['en', 'ja'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** The values a message's `{name}` placeholders take. */
export type Params = Readonly<Record<string, string | number>>;

/** A piece's messages in one language: key → text, placeholders written `{name}`. */
export type Catalogue<K extends string = string> = Readonly<Record<K, string>>;

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** The names of a message's placeholders, sorted and without repeats. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))].sort();
}

/** Fills `{name}` from params; a placeholder without a value stays as written, so the gap shows rather than hides. */
export function interpolate(text: string, params: Params = {}): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = Object.hasOwn(params, name) ? params[name] : undefined;
    return value === undefined ? whole : String(value);
  });
}

/**
 * What is wrong with `other` measured against `base` (English): a key missing or extra, an empty text, a
 * placeholder set that differs. Empty when the catalogue is whole.
 */
export function catalogueProblems(base: Catalogue, other: Catalogue, name: string): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(base)) {
    const text = other[key];
    if (!Object.hasOwn(other, key) || text === undefined) { problems.push(`${name}: missing key ${key}`); continue; }
    if (text.trim() === '') problems.push(`${name}: empty text for ${key}`);
    const want = placeholders(base[key] ?? '').join(',');
    const got = placeholders(text).join(',');
    if (want !== got) problems.push(`${name}: ${key} has placeholders {${got}}, English has {${want}}`);
  }
  for (const key of Object.keys(other)) if (!Object.hasOwn(base, key)) problems.push(`${name}: extra key ${key}`);
  return problems;
}
