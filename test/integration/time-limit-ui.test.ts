// The console's "Ask for more time" on an in-process center: CSRF needed; the ask reaches the site and, accepted, moves the deadline.
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

before(async () => {
  h = await Harness.create({ plugins: [consolePlugin] });
  await h.registerHub('hub1', '100.64.0.0/24', 4);
  site = await h.enroll('site1');
  // A plain operator (role operator, not admin).
  cookie = await logInOperator(h, 'bob', 'a long enough password');
  const opened = await h.site(site, 'POST', '/v1/site/tickets', {
    requester: 'ann', level: 'user', devices: ['printer'], urgency: 'normal', timeLimitMs: 30 * 60_000,
  });
  ticket = opened.body.ticket as number;
});
after(async () => { await h.close(); });

test('the console asks for more time only with its CSRF token; accepted by the site, the deadline moves', async () => {
  await h.hubConverges('hub1');
  await h.siteConverges(site);
  const start = await h.operator('POST', `/v1/tickets/${ticket}/start`);
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const deadlineAt = start.body.deadlineAt as number;
  const page = (await send('GET', `/console/tickets/${ticket}`)).text;
  assert.match(page, new RegExp(`data-deadline="${deadlineAt}"`));
  assert.equal((await send('POST', `/console/tickets/${ticket}/extensions`, { minutes: '30' })).status, 403, 'no CSRF token');
  assert.equal(((await h.operator('GET', `/v1/tickets/${ticket}`)).body.extensions ?? []).length, 0);
  assert.equal((await send('POST', `/console/tickets/${ticket}/extensions`, { _csrf: await csrf(), minutes: '45' })).status, 400, 'not offered');
  const asked = await send('POST', `/console/tickets/${ticket}/extensions`, { _csrf: await csrf(), minutes: '30' });
  assert.equal(asked.status, 303);
  const extensions = (await h.operator('GET', `/v1/tickets/${ticket}`)).body.extensions as { extension: number; state: string; askedBy: string }[];
  assert.deepEqual(extensions.map((e) => [e.state, e.askedBy]), [['pending', 'operator:bob']]);
  const accepted = await h.site(site, 'POST', `/v1/site/tickets/${ticket}/extensions/${extensions[0]?.extension}`, { accept: true });
  assert.equal(accepted.status, 200);
  assert.equal(accepted.body.deadlineAt, deadlineAt + 30 * 60_000);
  assert.match((await send('GET', `/console/tickets/${ticket}`)).text, /\+30 min asked by operator:bob — <b>accepted<\/b>/);
});
