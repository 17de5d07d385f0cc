// The console's job record: an ended ticket's page shows it and offers the signed JSON, whose signature checks with the center's key; login needed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { consolePlugin } from '../../src/center/console/console-plugin.ts';
import { verifyJobRecord } from '../../src/protocol/job-record.ts';
import { Harness, type EnrolledSite } from '../support/center-harness.ts';
import { logInOperator, sendConsole } from '../support/console-forms.ts';

let h: Harness;
let site: EnrolledSite;
let cookie = '';
const send = (method: 'GET' | 'POST', url: string, form?: Record<string, string | string[]>, withCookie = cookie, lang = 'en') => sendConsole(h, method, url, form, withCookie, lang);


before(async () => {
  h = await Harness.create({ plugins: [consolePlugin] });
  await h.registerHub('hub1', '100.64.0.0/24', 4);
  site = await h.enroll('site1');
  // A plain operator (role operator, not admin).
  cookie = await logInOperator(h, 'bob', 'a long enough password');
});
after(async () => { await h.close(); });

const open = async (): Promise<number> => {
  const opened = await h.site(site, 'POST', '/v1/site/tickets', {
    requester: 'ann', level: 'user', devices: ['printer'], urgency: 'normal', access: [{ device: 'printer', services: { services: ['web'], ports: [] } }],
  });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  return opened.body.ticket as number;
};

test('an open ticket shows no record and has none to download; an ended one shows what, consent, operator and end', async () => {
  const ticket = await open();
  const before = await send('GET', `/console/tickets/${ticket}`);
  assert.equal(before.status, 200);
  assert.doesNotMatch(before.text, /id="record-h"/);
  assert.equal((await send('GET', `/console/tickets/${ticket}/record.json`)).status, 404, 'no record while open');
  await h.hubConverges('hub1');
  await h.siteConverges(site);
  assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/start`)).status, 200);
  assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/end`, { reason: 'fixed the <tray>' })).status, 200);
  const page = await send('GET', `/console/tickets/${ticket}`);
  const section = /<section class="panel" aria-labelledby="record-h">[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? '';
  assert.match(section, /Job record/);
  assert.match(section, /ann for printer/);
  assert.match(section, /printer: web \(80, 443\)/);
  assert.match(section, /started by operator:/);
  assert.match(section, /Ended at /);
  assert.match(section, /fixed the &lt;tray&gt;/, 'the reason is escaped');
  assert.match(section, new RegExp(`href="/console/tickets/${ticket}/record\\.json"`));
  const fragment = await h.app.inject({ method: 'GET', url: `/console/fragments/tickets/${ticket}`, headers: { cookie, 'x-keyhole-live': '1' } });
  assert.match(fragment.body, /id="record-h"/, 'the live region carries the record too');
  const ja = await send('GET', `/console/tickets/${ticket}`, undefined, cookie, 'ja');
  assert.match(ja.text, /作業記録/);
  assert.match(ja.text, /署名付き記録をダウンロード/);
});

test('the download is the signed record, checkable with the center\'s key, and the same as the API\'s', async () => {
  const ticket = await open();
  assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/end`, { reason: 'not needed' })).status, 200);
  const file = await send('GET', `/console/tickets/${ticket}/record.json`);
  assert.equal(file.status, 200);
  assert.match(file.type, /^application\/json/);
  assert.match(file.disposition, new RegExp(`attachment; filename="keyhole-center-record-${ticket}\\.json"`));
  const key = (await h.operator('GET', '/v1/record-key')).body.key as string;
  const checked = verifyJobRecord(JSON.parse(file.text), key);
  assert.equal(checked.record.ticket, ticket);
  assert.deepEqual(checked.record.end, { state: 'ended', at: checked.record.end.at, reason: 'not needed' });
  assert.deepEqual(JSON.parse(file.text), (await h.operator('GET', `/v1/tickets/${ticket}/record`)).body);
});

test('the record and its download need a console login; an unknown ticket is 404, a bad number 400', async () => {
  const ticket = await open();
  assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/end`, {})).status, 200);
  const anonymous = await send('GET', `/console/tickets/${ticket}/record.json`, undefined, '');
  assert.notEqual(anonymous.status, 200);
  assert.doesNotMatch(anonymous.text, /"signature"/);
  const forged = await send('GET', `/console/tickets/${ticket}/record.json`, undefined, 'keyhole_session=forged');
  assert.notEqual(forged.status, 200);
  assert.doesNotMatch(forged.text, /"signature"/);
  assert.equal((await send('GET', '/console/tickets/999999/record.json')).status, 404);
  assert.equal((await send('GET', '/console/tickets/0/record.json')).status, 400);
});
