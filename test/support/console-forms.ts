// What the console's integration tests share: a page fetch or form post on an in-process center, and an operator logged in through the real login form.
import assert from 'node:assert/strict';
import { setOperator } from '../../src/center/console/operators.ts';
import type { Harness } from './center-harness.ts';

export interface ConsolePage { status: number; text: string; type: string; disposition: string; location: string | undefined; cookies: string[] }

/** GET a page or POST a form (a field given as a list repeats); `cookie` '' sends none. */
export async function sendConsole(h: Harness, method: 'GET' | 'POST', url: string, form: Record<string, string | string[]> | undefined, cookie: string, lang = 'en'): Promise<ConsolePage> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form ?? {})) for (const one of [v].flat()) body.append(k, one);
  const response = await h.app.inject({
    method, url,
    headers: { 'accept-language': lang, ...(cookie === '' ? {} : { cookie }), ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
    ...(form === undefined ? {} : { payload: body.toString() }),
  });
  return {
    status: response.statusCode, text: response.body, type: String(response.headers['content-type'] ?? ''),
    disposition: String(response.headers['content-disposition'] ?? ''), location: response.headers.location as string | undefined,
    cookies: [response.headers['set-cookie'] ?? []].flat(),
  };
}

/** The CSRF token a page's forms carry. */
export const tokenIn = (text: string): string => /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? '';

/** Adds a plain operator (role operator, not admin) and logs in through the login form: the session cookie. */
export async function logInOperator(h: Harness, name: string, password: string): Promise<string> {
  await setOperator(h.ctx.db, name, password, h.now);
  const page = await sendConsole(h, 'GET', '/console/login', undefined, '');
  const login = (page.cookies.find((c) => c.startsWith('keyhole_login=')) ?? '').split(';')[0] ?? '';
  const answer = await sendConsole(h, 'POST', '/console/login', { _csrf: tokenIn(page.text), name, password }, login);
  const cookie = (answer.cookies.find((c) => c.startsWith('keyhole_session=')) ?? '').split(';')[0] ?? '';
  assert.notEqual(cookie, '', `login: ${answer.status}`);
  return cookie;
}
