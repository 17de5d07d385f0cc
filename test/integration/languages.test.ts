// The help page and the console speak the browser's language: Accept-Language, the switch and its cookie, hostile headers and cookies, with real keyhole processes on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BrowserWorld } from '../support/browser-world.ts';

interface Answer { status: number; text: string; location: string | null; cookies: string[] }

async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', headers });
  return { status: response.status, text: await response.text(), location: response.headers.get('location'), cookies: response.headers.getSetCookie() };
}

const langOf = (page: string): string | undefined => /<html lang="([^"]*)"/.exec(page)?.[1];

describe('languages on the help page and the console', { timeout: 120_000 }, () => {
  const world = new BrowserWorld();
  let failed = false;

  before(async () => { await world.start(); });
  after(async () => { await world.stop(failed); });

  const check = (name: string, body: () => Promise<void>): void => {
    test(name, async () => {
      try { await body(); } catch (error) { failed = true; throw error; }
    });
  };

  check('Accept-Language: ja gives the help page in Japanese; English otherwise', async () => {
    const ja = await get(`${world.lan}/`, { 'accept-language': 'ja-JP,ja;q=0.9,en;q=0.5' });
    assert.equal(ja.status, 200);
    assert.equal(langOf(ja.text), 'ja');
    assert.match(ja.text, /<h1>リモート保守を依頼する<\/h1>/);
    assert.match(ja.text, /依頼を送信する/);
    assert.match(ja.text, /href="\/lang\?to=en&amp;back=%2F"/, 'a switch to English');
    for (const header of [undefined, 'fr-FR', 'en-US,ja;q=0.1']) {
      const en = await get(`${world.lan}/`, header === undefined ? {} : { 'accept-language': header });
      assert.equal(langOf(en.text), 'en', String(header));
      assert.match(en.text, /<h1>Ask for remote maintenance<\/h1>/);
    }
  });

  check('the switch sets lang=ja, which wins over the header, and goes back only to a local page', async () => {
    const set = await get(`${world.lan}/lang?to=ja&back=${encodeURIComponent('/admin')}`);
    assert.equal(set.status, 303);
    assert.equal(set.location, '/admin');
    assert.ok(set.cookies.some((c) => /^lang=ja;/.test(c) && /HttpOnly/i.test(c) && /SameSite=Lax/i.test(c)), set.cookies.join(' | '));
    const page = await get(`${world.lan}/admin`, { cookie: 'lang=ja', 'accept-language': 'en' });
    assert.equal(langOf(page.text), 'ja');
    assert.match(page.text, /管理者サインイン/);

    const away = await get(`${world.lan}/lang?to=ja&back=${encodeURIComponent('//evil.example/x')}`);
    assert.equal(away.location, '/');
  });

  check('a bad lang value sets nothing; a bad lang cookie is ignored for the header', async () => {
    const bad = await get(`${world.lan}/lang?to=${encodeURIComponent('../../x')}&back=/`);
    assert.equal(bad.status, 303);
    assert.deepEqual(bad.cookies.filter((c) => c.startsWith('lang=')), []);
    for (const cookie of ['lang=../../x', 'lang=JA', `lang=${'x'.repeat(2000)}`, 'lang=']) {
      const page = await get(`${world.lan}/`, { cookie, 'accept-language': 'ja' });
      assert.equal(page.status, 200, cookie.slice(0, 20));
      assert.equal(langOf(page.text), 'ja', cookie.slice(0, 20));
    }
  });

  check('a 10 kB Accept-Language is answered, in English, without a fault', async () => {
    const huge = `${'x-abcdefgh;q=0.9,'.repeat(600)}ja`;
    assert.ok(huge.length > 10_000);
    const page = await get(`${world.lan}/`, { 'accept-language': huge });
    assert.equal(page.status, 200);
    assert.equal(langOf(page.text), 'en');
  });

  check('errors and pages not found are in the page\'s language', async () => {
    const missing = await get(`${world.lan}/nowhere`, { 'accept-language': 'ja' });
    assert.equal(missing.status, 404);
    assert.match(missing.text, /ページが見つかりません/);
    const unknown = await get(`${world.lan}/tickets/999`, { 'accept-language': 'ja' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /このブラウザーには、その番号のご依頼はありません/);
  });

  check('the console: login page by Accept-Language, the switch at /console/lang without a session', async () => {
    const login = await get(`${world.console}/console/login`, { 'accept-language': 'ja' });
    assert.equal(login.status, 200);
    assert.equal(langOf(login.text), 'ja');
    assert.match(login.text, /keyhole にログイン/);
    assert.match(login.text, /オペレーター名/);
    const set = await get(`${world.console}/console/lang?to=ja&back=${encodeURIComponent('/console/login')}`);
    assert.equal(set.status, 303);
    assert.equal(set.location, '/console/login');
    assert.ok(set.cookies.some((c) => c.startsWith('lang=ja;')));
    const english = await get(`${world.console}/console/login`, { cookie: 'lang=en', 'accept-language': 'ja' });
    assert.equal(langOf(english.text), 'en');
    assert.match(english.text, /Log in to keyhole/);
  });
  /** The page's visible words and attribute labels (tags, scripts and styles stripped). */
  const words = (page: string): string => page.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/(?:aria-label|title|placeholder)="([^"]*)"/g, ' $1 ').replace(/<[^>]*>/g, ' ');
  const ENGLISH = ['Sites', 'Public address', 'Enrolled', 'Last seen', 'Open tickets', 'Tunnel handshake', 'online', 'offline', 'in sync',
    'converging', 'streaming', 'Version', 'protocol', 'Lifecycle', 'Revoke', 'Delete', 'Every enrolled', 'Ticket', 'Device', 'Address',
    'Services', 'How to reach', 'Asks for more', 'Ask for more', 'Ports', 'everything', 'Waiting for', 'Leases', 'History', 'released',
    'no link', 'Refused', 'None'];
  const leftovers = (page: string): string[] => ENGLISH.filter((w) => new RegExp(`\\b${w}\\b`).test(words(page)));

  check('the console\'s sites page and a ticket page in Japanese have no English words left', async () => {
    await world.addOperator('yui', 'a long enough password');
    const form = await get(`${world.console}/console/login`);
    const login = (form.cookies.find((c) => c.startsWith('keyhole_login=')) ?? '').split(';')[0] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';
    const answer = await fetch(`${world.console}/console/login`, { method: 'POST', redirect: 'manual', headers: { cookie: login, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, name: 'yui', password: 'a long enough password', next: '/console/' }).toString() });
    const session = (answer.headers.getSetCookie().find((c) => c.startsWith('keyhole_session=')) ?? '').split(';')[0] ?? '';
    assert.notEqual(session, '', `login: ${answer.status}`);
    const { ticket } = await world.request('site1', { devices: ['printer'], requester: 'ann' });
    const cookie = `${session}; lang=ja`;
    const sites = await get(`${world.console}/console/sites`, { cookie });
    assert.equal(sites.status, 200);
    assert.equal(langOf(sites.text), 'ja');
    assert.match(sites.text, /登録済みのすべてのお客様ゲートウェイです/);
    assert.deepEqual(leftovers(sites.text), []);
    const page = await get(`${world.console}/console/tickets/${ticket}`, { cookie });
    assert.equal(page.status, 200);
    assert.match(page.text, /追加アクセスの依頼/);
    assert.deepEqual(leftovers(page.text), []);
    const english = await get(`${world.console}/console/sites`, { cookie: `${session}; lang=en` });
    assert.match(english.text, /Every enrolled customer gateway\./);
    assert.ok(leftovers(english.text).includes('Public address'), 'the check sees English when it is there');
  });
});
