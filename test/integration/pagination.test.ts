// Every operator list answers bounded pages: with 2,500 sites inserted directly, pages by `keyhole-next` (and the console's pager) are complete and ordered; bad cursors and limits are 400.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApi, type App } from '../../src/center/api/app.ts';
import { consoleAuthenticator, SESSION_COOKIE } from '../../src/center/console/console-auth.ts';
import { consolePlugin } from '../../src/center/console/console-plugin.ts';
import { setOperator } from '../../src/center/console/operators.ts';
import { Sessions } from '../../src/center/console/sessions.ts';
import { EventFeed } from '../../src/center/event-feed.ts';
import { Harness, OPERATOR_TOKEN } from '../support/center-harness.ts';

const SITES = 2500;
let h: Harness;

before(async () => {
  h = await Harness.create();
  const rows = Array.from({ length: SITES }, (_, i) => ({
    id: `p${String(i).padStart(5, '0')}`, public_key: 'k', secret: 's', psk: 'p', lan: '[]', public_address: null, enrolled_at: h.now, last_seen_at: null, handshake_at: null,
  }));
  for (let i = 0; i < rows.length; i += 500) await h.store.db.insertInto('sites').values(rows.slice(i, i + 500)).execute();
});
after(async () => { await h.close(); });

test('GET /v1/sites pages (default 100, limit up to 1000) cover every site once, in id order', async () => {
  const first = await h.app.inject({ method: 'GET', url: '/v1/sites', headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  assert.equal(JSON.parse(first.body).length, 100);
  assert.equal(first.headers['keyhole-next'], '/v1/sites?after=p00099&limit=100');
  const seen: string[] = [];
  let next: string | undefined = '/v1/sites?limit=1000';
  let pages = 0;
  while (next !== undefined) {
    const answer: { statusCode: number; body: string; headers: Record<string, unknown> } = await h.app.inject({ method: 'GET', url: next, headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    assert.equal(answer.statusCode, 200);
    const page = JSON.parse(answer.body) as { site: string }[];
    assert.ok(page.length <= 1000);
    seen.push(...page.map((s) => s.site));
    next = answer.headers['keyhole-next'] as string | undefined;
    pages++;
  }
  assert.equal(pages, 3);
  assert.equal(seen.length, SITES);
  assert.deepEqual(seen, [...seen].sort());
  assert.equal(new Set(seen).size, SITES);
});

test('faults and audit page newest first by `before`; hubs by name', async () => {
  const audit = await h.operator('GET', '/v1/audit?limit=1');
  assert.equal(audit.status, 200);
  assert.ok(Array.isArray(audit.body));
  assert.equal((await h.operator('GET', '/v1/faults?limit=5')).status, 200);
  assert.equal((await h.operator('GET', '/v1/hubs?limit=5')).status, 200);
});

test('a bad cursor or limit is a clear 400 naming the field', async () => {
  for (const url of ['/v1/sites?limit=0', '/v1/sites?limit=1001', '/v1/sites?limit=x', '/v1/sites?after=UPPER', '/v1/sites?after=', '/v1/hubs?limit=5000',
    '/v1/faults?before=0', '/v1/faults?before=-1', '/v1/faults?limit=1001', '/v1/audit?limit=1001', '/v1/sites?cursor=p1']) {
    const answer = await h.operator('GET', url);
    assert.equal(answer.status, 400, url);
    assert.equal(answer.body.error.code, 'BAD_REQUEST', url);
  }
});

test("the console's sites page shows 100 sites and a next link; following it covers every site once; a bad cursor is 400", async () => {
  const app: App = await buildApi({ ctx: h.ctx, watch: h.watch, feed: new EventFeed(), plugins: [(scope) => consolePlugin(scope, h.ctx)], operatorSession: consoleAuthenticator(h.ctx) });
  try {
    await setOperator(h.store.db, 'pam', 'correct horse battery', h.now, 'cli', 'operator');
    const session = await new Sessions(h.ctx.db, h.ctx.now).create('pam');
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { cookie: `${SESSION_COOKIE}=${session.id}` } });
    const seen: string[] = [];
    let next: string | undefined = '/console/sites';
    let pages = 0;
    while (next !== undefined) {
      const answer = await get(next);
      assert.equal(answer.statusCode, 200, next);
      const rows = [...answer.body.matchAll(/<td[^>]*>(?:<[^>]+>)*(p\d{5})</g)].map((m) => m[1] as string);
      const unique = [...new Set(rows)];
      assert.ok(unique.length <= 100, `${next}: ${unique.length} sites on one page`);
      seen.push(...unique);
      next = /href="([^"]+)" rel="next"/.exec(answer.body)?.[1]?.replaceAll('&amp;', '&');
      if (pages > 0) assert.match(answer.body, /href="\/console\/sites" rel="first"/);
      // The live refresh keeps the page it is on.
      if (pages === 1) assert.match(answer.body, /\/console\/fragments\/sites\?after=p00099/);
      pages++;
    }
    assert.equal(pages, 25);
    assert.equal(seen.length, SITES);
    assert.deepEqual(seen, [...seen].sort());
    assert.equal(new Set(seen).size, SITES);
    assert.match((await get('/console/fragments/sites?after=p02399')).body, /p02400/);
    for (const url of ['/console/sites?after=UPPER', '/console/sites?after=', '/console/faults?before=0', '/console/hubs?after=a%20b']) {
      assert.equal((await get(url)).statusCode, 400, url);
    }
  } finally {
    await app.close();
  }
});
