// The console's Ask for more form on an in-process center: CSRF, bad input and gateway on a user ticket change nothing; any operator may ask; links follow the lease's services.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { consolePlugin } from '../../src/center/console/console-plugin.ts';
import { Harness, type EnrolledSite } from '../support/center-harness.ts';
import { logInOperator, sendConsole, tokenIn } from '../support/console-forms.ts';

let h: Harness;
let site: EnrolledSite;
let cookie = '';
const send = (method: 'GET' | 'POST', url: string, form?: Record<string, string | string[]>, withCookie = cookie, lang = 'en') => sendConsole(h, method, url, form, withCookie, lang);
let ticket = 0;

const csrf = async (): Promise<string> => tokenIn((await send('GET', `/console/tickets/${ticket}`)).text);
const asks = async (): Promise<{ device: string; state: string }[]> => (await h.operator('GET', `/v1/tickets/${ticket}`)).body.asks ?? [];

before(async () => {
  h = await Harness.create({ plugins: [consolePlugin] });
  await h.registerHub('hub1', '100.64.0.0/24', 4);
  site = await h.enroll('site1');
  // A plain operator (role operator, not admin).
  cookie = await logInOperator(h, 'bob', 'a long enough password');
  const opened = await h.site(site, 'POST', '/v1/site/tickets', {
    requester: 'ann', level: 'user', devices: ['printer', 'nas'], urgency: 'normal', access: [{ device: 'printer', services: { services: ['web'], ports: [] } }],
  });
  ticket = opened.body.ticket as number;
});
after(async () => { await h.close(); });

test('the ticket page shows each lease\'s services and only the links they admit, and the ask form', async () => {
  const text = (await send('GET', `/console/tickets/${ticket}`)).text;
  const printer = /<tr data-device="printer">[\s\S]*?<\/tr>/.exec(text)?.[0] ?? '';
  const nas = /<tr data-device="nas">[\s\S]*?<\/tr>/.exec(text)?.[0] ?? '';
  assert.match(printer, /web \(80, 443\)/);
  assert.match(printer, /href="http:\/\/100\.64\.0\.\d+\/"/);
  assert.match(printer, /href="https:\/\/100\.64\.0\.\d+\/"/);
  assert.doesNotMatch(printer, /ssh:\/\//, 'no ssh link on a web-only lease');
  assert.match(nas, /everything/);
  assert.match(nas, /href="ssh:\/\/100\.64\.0\.\d+"/);
  assert.match(text, /<form method="post" action="\/console\/tickets\/\d+\/asks" class="ask-form">/);
});

test('an ask without its CSRF token, or with a stale one, is refused and asks nothing', async () => {
  assert.equal((await send('POST', `/console/tickets/${ticket}/asks`, { device: 'printer', services: 'ssh' })).status, 403);
  assert.equal((await send('POST', `/console/tickets/${ticket}/asks`, { _csrf: 'A'.repeat(43), device: 'printer', services: 'ssh' })).status, 403);
  assert.equal((await send('POST', `/console/tickets/${ticket}/asks`, { _csrf: await csrf(), device: 'printer', services: 'ssh' }, '')).status, 403, 'no session');
  assert.deepEqual(await asks(), []);
});

test('bad input is said on the ticket page and asks nothing', async () => {
  const before = await h.counts();
  for (const [form, pattern] of [
    [{ device: 'printer' }, /name at least one service or port/],
    [{ device: 'printer', services: 'telnet' }, /&#39;telnet&#39; is neither a service/],
    [{ device: 'printer', ports: '0' }, /&#39;0&#39; is neither a service/],
    [{ device: 'printer', ports: '65536' }, /&#39;65536&#39; is neither a service/],
    [{ device: 'printer', ports: Array.from({ length: 17 }, (_, i) => String(i + 1)).join(',') }, /at most 16 ports/],
    [{ device: 'not a/name', services: 'ssh' }, /is not a device name/],
    [{ device: 'printer', services: 'web' }, /already admits that/],
    [{ device: 'gateway', services: 'ssh' }, /only on a ticket of level admin/],
  ] as const) {
    const answer = await send('POST', `/console/tickets/${ticket}/asks`, { _csrf: await csrf(), ...form });
    assert.ok(answer.status === 400 || answer.status === 403, `${JSON.stringify(form)}: ${answer.status}`);
    assert.match(answer.text, /<div class="notice notice-error" role="alert">Not asked: /);
    assert.match(answer.text, pattern);
  }
  assert.equal((await send('POST', '/console/tickets/999999/asks', { _csrf: await csrf(), device: 'printer', services: 'ssh' })).status, 404);
  assert.deepEqual(await asks(), []);
  assert.deepEqual(await h.counts(), before);
});

test('an ask from the form is pending, listed with its state, and the lease stays as it was until the site accepts', async () => {
  const answer = await send('POST', `/console/tickets/${ticket}/asks`, { _csrf: await csrf(), device: 'Printer', services: ['ssh'], ports: '8080' });
  assert.equal(answer.status, 303);
  assert.equal(answer.location, `/console/tickets/${ticket}`);
  const [ask] = (await h.operator('GET', `/v1/tickets/${ticket}`)).body.asks;
  assert.deepEqual({ device: ask.device, services: ask.services, state: ask.state, askedBy: ask.askedBy },
    { device: 'printer', services: { services: ['ssh'], ports: [{ proto: 'tcp', port: 8080 }] }, state: 'pending', askedBy: 'operator:bob' });
  const page = (await send('GET', `/console/tickets/${ticket}`)).text;
  assert.match(/<tr data-ask="\d+">[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '', /printer[\s\S]*ssh \(22\), tcp 8080[\s\S]*Waiting for the user/);
  assert.doesNotMatch(/<tr data-device="printer">[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '', /ssh:\/\//, 'no ssh link before the user accepts');

  assert.equal((await h.site(site, 'POST', `/v1/site/tickets/${ticket}/asks/${ask.ask}`, { accept: true })).status, 200);
  const after = (await send('GET', `/console/tickets/${ticket}`)).text;
  assert.match(/<tr data-device="printer">[\s\S]*?<\/tr>/.exec(after)?.[0] ?? '', /href="ssh:\/\/100\.64\.0\.\d+"/, 'ssh link once accepted');
  assert.match(/<tr data-ask="\d+">[\s\S]*?<\/tr>/.exec(after)?.[0] ?? '', /Accepted/);
});

test('a closed ticket offers no ask form and refuses one', async () => {
  await h.operator('POST', `/v1/tickets/${ticket}/end`, {});
  const token = await csrf();
  assert.doesNotMatch((await send('GET', `/console/tickets/${ticket}`)).text, /class="ask-form"/);
  const answer = await send('POST', `/console/tickets/${ticket}/asks`, { _csrf: token, device: 'nas', services: 'ssh' });
  assert.equal(answer.status, 409);
  assert.match(answer.text, /Not asked: ticket \d+ is ended/);
});
