// The console's HTTP behaviour on an in-process center: login, cookies, CSRF, the API's session hook, logout, headers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { startCenter, type RunningCenter } from '../../../../src/center/center.ts';
import { consoleAuthenticator } from '../../../../src/center/console/console-auth.ts';
import { consolePlugin } from '../../../../src/center/console/console-plugin.ts';
import { setOperator } from '../../../../src/center/console/operators.ts';
import { parseCidr } from '../../../../src/protocol/ip.ts';

const TOKEN = 'operator-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'keyhole-console-'));
let center: RunningCenter;

interface Answer { status: number; text: string; headers: Headers; cookies: string[] }

async function call(path: string, init: { method?: string; cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.cookie !== undefined) headers['cookie'] = init.cookie;
  if (init.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const response = await fetch(`${center.url}${path}`, {
    method: init.method ?? (init.form === undefined ? 'GET' : 'POST'), headers, redirect: 'manual',
    ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form).toString() }),
  });
  return { status: response.status, text: await response.text(), headers: response.headers, cookies: response.headers.getSetCookie() };
}

const cookieOf = (answer: Answer, name: string): string => {
  const line = answer.cookies.find((c) => c.startsWith(`${name}=`));
  assert.ok(line !== undefined, `a ${name} cookie`);
  return line.split(';')[0] as string;
};
const tokenIn = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function logIn(): Promise<{ cookie: string; csrf: string }> {
  const page = await call('/console/login');
  const login = cookieOf(page, 'keyhole_login');
  const answer = await call('/console/login', { cookie: login, form: { _csrf: tokenIn(page.text), name: 'ann', password: 'correct horse battery', next: '/console/hubs' } });
  assert.equal(answer.status, 303);
  assert.equal(answer.headers.get('location'), '/console/hubs');
  const cookie = cookieOf(answer, 'keyhole_session');
  const queue = await call('/console/', { cookie });
  return { cookie, csrf: tokenIn(queue.text) };
}

before(async () => {
  center = await startCenter({
    config: {
      pool: parseCidr('100.64.0.0/10'), enrollSecret: new TextEncoder().encode('enroll-secret-0123456789'), operatorToken: TOKEN,
      ticketTtlMs: 3_600_000, waitingTtlMs: 3_600_000, readyTimeoutMs: 60_000, hubStaleMs: 90_000, keepaliveSeconds: 25, maxSkewMs: 300_000,
    },
    db: join(dir, 'center.db'), listen: { host: '127.0.0.1', port: 0 }, consoleListen: null, https: null, trustProxy: false,
    log: pino({ level: 'silent' }), plugins: [consolePlugin], operatorSession: consoleAuthenticator,
  });
  await setOperator(center.ctx.db, 'ann', 'correct horse battery', Date.now());
});

after(async () => {
  await center.close();
  rmSync(dir, { recursive: true, force: true });
});

test('pages need a session: a browser is sent to the login page, a live refresh gets 401', async () => {
  const page = await call('/console/sites');
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/console/login?next=%2Fconsole%2Fsites');
  const fragment = await call('/console/fragments/queue', { headers: { 'x-keyhole-live': '1' } });
  assert.equal(fragment.status, 401);
  assert.equal((await call('/')).headers.get('location'), '/console/');
});

test('login: the session cookie is HttpOnly and SameSite=Strict (not Secure on plain HTTP)', async () => {
  const page = await call('/console/login');
  const login = cookieOf(page, 'keyhole_login');
  const answer = await call('/console/login', { cookie: login, form: { _csrf: tokenIn(page.text), name: 'ann', password: 'correct horse battery' } });
  const line = answer.cookies.find((c) => c.startsWith('keyhole_session=')) ?? '';
  assert.match(line, /HttpOnly/);
  assert.match(line, /SameSite=Strict/);
  assert.doesNotMatch(line, /Secure/);
  assert.equal(answer.headers.get('location'), '/console/');
});

test('login: the form needs its token and the cookie it is bound to; a next URL elsewhere is ignored', async () => {
  const page = await call('/console/login');
  const form = { _csrf: tokenIn(page.text), name: 'ann', password: 'correct horse battery', next: '//evil.example/' };
  assert.equal((await call('/console/login', { form })).status, 403, 'no login cookie');
  assert.equal((await call('/console/login', { cookie: 'keyhole_login=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', form })).status, 403, 'another cookie');
  const ok = await call('/console/login', { cookie: cookieOf(page, 'keyhole_login'), form });
  assert.equal(ok.headers.get('location'), '/console/');
});

test('a wrong password is 401 with the reason on the page; the name is kept', async () => {
  const page = await call('/console/login');
  const answer = await call('/console/login', { cookie: cookieOf(page, 'keyhole_login'), form: { _csrf: tokenIn(page.text), name: 'ann', password: 'nope nope nope' } });
  assert.equal(answer.status, 401);
  assert.match(answer.text, /Wrong operator name or password\./);
  assert.match(answer.text, /name="name" value="ann"/);
});

test('every form needs the session\'s token: 403 and a page in plain words', async () => {
  const { cookie, csrf } = await logIn();
  const refused = await call('/console/tickets/1/start', { cookie, form: { return: '/console/' } });
  assert.equal(refused.status, 403);
  assert.match(refused.text, /<h1>This form was refused<\/h1>/);
  assert.equal((await call('/console/tickets/1/start', { cookie, form: { _csrf: `${csrf.slice(1)}x` } })).status, 403);
  const unknown = await call('/console/tickets/999/start', { cookie, form: { _csrf: csrf } });
  assert.equal(unknown.status, 404, 'with the token, the action runs (and finds no ticket 999)');
  assert.match(unknown.text, /there is no ticket 999/);
});

test('the JSON API takes the session for reads, and for changes only with the CSRF header; the token still works', async () => {
  const { cookie, csrf } = await logIn();
  assert.equal((await call('/v1/tickets', { cookie })).status, 200);
  assert.equal((await call('/v1/tickets/5/start', { method: 'POST', cookie })).status, 401);
  assert.equal((await call('/v1/tickets/5/start', { method: 'POST', cookie, headers: { 'x-keyhole-csrf': csrf } })).status, 404);
  assert.equal((await call('/v1/tickets', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  assert.equal((await call('/v1/tickets')).status, 401);
});

test('logout ends the session everywhere', async () => {
  const { cookie, csrf } = await logIn();
  const out = await call('/console/logout', { cookie, form: { _csrf: csrf } });
  assert.equal(out.status, 200);
  assert.match(out.text, /You are logged out\./);
  assert.equal((await call('/console/', { cookie })).status, 303);
  assert.equal((await call('/v1/tickets', { cookie })).status, 401);
});

test('pages carry a strict CSP and stay out of the OpenAPI document', async () => {
  const { cookie } = await logIn();
  for (const path of ['/console/', '/console/faults', '/console/sites', '/console/hubs', '/console/pool?range=7d', '/console/audit']) {
    const page = await call(path, { cookie });
    assert.equal(page.status, 200, path);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.doesNotMatch(page.text, /<script>|style="/, `${path}: no inline script or style`);
  }
  assert.equal((await call('/console/?state=nonsense', { cookie })).status, 400);
  const openapi = JSON.parse((await call('/openapi.json')).text) as { paths: Record<string, unknown> };
  assert.ok(Object.keys(openapi.paths).every((p) => !p.startsWith('/console') && p !== '/'));
});
