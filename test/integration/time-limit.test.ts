// Tickets' time on the center: the user's limit within the bounds, the deadline from the start of work, one warning, expiry on time, extensions the user must accept.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sweep } from '../../src/center/timers.ts';
import { warnTicket } from '../../src/center/tickets/time-limit.ts';
import { Harness, type EnrolledSite } from '../support/center-harness.ts';
import { onPostgres } from '../support/postgres.ts';

const M = 60_000;
const request = (extra: Record<string, unknown> = {}) => ({ requester: 'ann', level: 'user', devices: ['printer'], urgency: 'normal', ...extra });

/** Opens a ticket, brings it to ready and starts it; returns its number and deadline. */
async function started(h: Harness, site: EnrolledSite, extra: Record<string, unknown> = {}): Promise<{ ticket: number; deadlineAt: number }> {
  const opened = await h.site(site, 'POST', '/v1/site/tickets', request(extra));
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  const ticket = opened.body.ticket as number;
  await h.hubConverges('hub1');
  await h.siteConverges(site);
  const start = await h.operator('POST', `/v1/tickets/${ticket}/start`);
  assert.equal(start.status, 200, JSON.stringify(start.body));
  return { ticket, deadlineAt: start.body.deadlineAt as number };
}

const actions = async (h: Harness, ticket: number): Promise<string[]> =>
  ((await h.operator('GET', `/v1/audit?subject=ticket:${ticket}`)).body as { action: string }[]).map((e) => e.action);
const view = async (h: Harness, ticket: number) => (await h.operator('GET', `/v1/tickets/${ticket}`)).body;

describe('time limits on SQLite', () => {
  let h: Harness;
  let site: EnrolledSite;
  before(async () => {
    h = await Harness.create({ config: { ticketTtlMs: 8 * 60 * M, ticketTime: { defaultMs: 120 * M, minMs: 15 * M, warnBeforeMs: 10 * M } } });
    await h.registerHub('hub1', '100.64.0.0/24', 8);
    site = await h.enroll('site1');
  });
  after(async () => { await h.close(); });

  void test('a time limit outside the bounds, negative, huge or not a number is refused with 400 and creates nothing', async () => {
    const counts = await h.counts();
    for (const timeLimitMs of [14 * M, 8 * 60 * M + 1, -30 * M, 0, 1e300, 1.5, '30m', null]) {
      const answer = await h.site(site, 'POST', '/v1/site/tickets', request({ timeLimitMs }));
      assert.equal(answer.status, 400, `${String(timeLimitMs)}: ${JSON.stringify(answer.body)}`);
    }
    const named = await h.site(site, 'POST', '/v1/site/tickets', request({ timeLimitMs: 9 * 60 * M }));
    assert.match(named.body.error.message, /between 15m and 8h/);
    assert.equal(named.body.error.field, 'timeLimitMs');
    assert.deepEqual(await h.counts(), counts);
  });

  void test('the default limit applies when none is named; the clock starts with the work', async () => {
    const opened = await h.site(site, 'POST', '/v1/site/tickets', request());
    assert.equal(opened.body.timeLimitMs, 120 * M);
    assert.equal(opened.body.deadlineAt, null, 'no deadline before work starts');
    await h.operator('POST', `/v1/tickets/${opened.body.ticket}/end`);
  });

  void test('warned once at deadline − warnBefore, not before; expires at the deadline, not before, and its leases go', async () => {
    const { ticket, deadlineAt } = await started(h, site, { timeLimitMs: 30 * M });
    assert.equal(deadlineAt, h.now + 30 * M);
    const desired = async () => ((await h.site(site, 'GET', '/v1/site/state')).body.tickets as { ticket: number; deadlineAt?: number; warned?: boolean }[]).find((t) => t.ticket === ticket);
    assert.deepEqual(await desired(), { ticket, state: 'in_progress', deadlineAt, warned: false }, 'the site learns the deadline');
    h.advance(20 * M - 1);
    await sweep(h.ctx);
    assert.equal((await view(h, ticket)).warnedAt, null, 'not warned 1 ms early');
    h.advance(1);
    await sweep(h.ctx);
    await sweep(h.ctx);
    assert.equal((await view(h, ticket)).warnedAt, h.now);
    assert.equal((await actions(h, ticket)).filter((a) => a === 'ticket.warned').length, 1, 'warned once across sweeps');
    assert.equal((await desired())?.warned, true);
    h.advance(10 * M - 1);
    await sweep(h.ctx);
    assert.equal((await view(h, ticket)).state, 'in_progress', 'not expired 1 ms before the deadline');
    h.advance(1);
    await sweep(h.ctx);
    const closed = await view(h, ticket);
    assert.equal(closed.state, 'expired');
    assert.match(closed.endReason, /time limit of 30m/);
    const leases = await h.store.db.selectFrom('leases').select('state').where('site', '=', 'site1').where('device', '=', 'printer').execute();
    assert.ok(leases.every((l) => l.state !== 'active'), 'the lease goes');
  });

  void test('an extension is inert until the user accepts; accepted, the deadline moves (capped) and a new warning comes; refused, it expires on time', async () => {
    const { ticket, deadlineAt } = await started(h, site, { timeLimitMs: 30 * M });
    assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/extensions`, { byMs: 0 })).status, 400);
    assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/extensions`, { byMs: -M })).status, 400);
    assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/extensions`, { byMs: '30m' })).status, 400);
    const asked = await h.operator('POST', `/v1/tickets/${ticket}/extensions`, { byMs: 30 * M });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    assert.equal(asked.body.deadlineAt, deadlineAt, 'inert until accepted');
    const extension = asked.body.extensions[0].extension as number;
    assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/extensions`, { byMs: 30 * M })).status, 409, 'one ask waits at a time');
    assert.equal((await h.operator('POST', `/v1/site/tickets/${ticket}/extensions/${extension}`, { accept: true })).status, 401, 'an operator cannot accept for the user');
    const pending = ((await h.site(site, 'GET', '/v1/site/state')).body.tickets as { ticket: number; pendingExtensions?: number }[]).find((t) => t.ticket === ticket);
    assert.equal(pending?.pendingExtensions, 1);
    h.advance(25 * M);
    await sweep(h.ctx); // warned at 20 min
    assert.notEqual((await view(h, ticket)).warnedAt, null);
    const accepted = await h.site(site, 'POST', `/v1/site/tickets/${ticket}/extensions/${extension}`, { accept: true });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.deadlineAt, deadlineAt + 30 * M);
    assert.equal(accepted.body.warnedAt, null, 'warned again before the new deadline');
    assert.equal((await h.site(site, 'POST', `/v1/site/tickets/${ticket}/extensions/${extension}`, { accept: true })).status, 409, 'answered once');
    h.advance(10 * M);
    await sweep(h.ctx);
    assert.equal((await view(h, ticket)).state, 'in_progress', 'the old deadline passed: still running');
    // Capped by the longest limit: 8 h from start.
    const big = (await h.operator('POST', `/v1/tickets/${ticket}/extensions`, { byMs: 24 * 60 * M })).body.extensions[1].extension as number;
    const capped = await h.site(site, 'POST', `/v1/site/tickets/${ticket}/extensions/${big}`, { accept: true });
    assert.equal(capped.body.deadlineAt, deadlineAt - 30 * M + 8 * 60 * M);
    assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/extensions`, { byMs: M })).status, 400, 'nothing left to extend');
    const events = await actions(h, ticket);
    for (const a of ['ticket.extension.asked', 'ticket.extension.accepted', 'ticket.warned']) assert.ok(events.includes(a), events.join(','));
    await h.operator('POST', `/v1/tickets/${ticket}/end`);

    const second = await started(h, site, { timeLimitMs: 15 * M });
    const no = (await h.operator('POST', `/v1/tickets/${second.ticket}/extensions`, { byMs: 30 * M })).body.extensions[0].extension as number;
    const refused = await h.site(site, 'POST', `/v1/site/tickets/${second.ticket}/extensions/${no}`, { accept: false });
    assert.equal(refused.body.deadlineAt, second.deadlineAt);
    assert.equal(refused.body.extensions[0].state, 'refused');
    h.advance(15 * M);
    await sweep(h.ctx);
    assert.equal((await view(h, second.ticket)).state, 'expired', 'refused: expires on time');
    assert.ok((await actions(h, second.ticket)).includes('ticket.extension.refused'));
  });

  void test('no extension before work starts, nor on another site\'s ticket; a bad answer body is a 400', async () => {
    const opened = await h.site(site, 'POST', '/v1/site/tickets', request());
    const ticket = opened.body.ticket as number;
    assert.equal((await h.operator('POST', `/v1/tickets/${ticket}/extensions`, { byMs: 30 * M })).status, 409);
    await h.operator('POST', `/v1/tickets/${ticket}/end`);
    const running = await started(h, site);
    const id = (await h.operator('POST', `/v1/tickets/${running.ticket}/extensions`, { byMs: 30 * M })).body.extensions[0].extension as number;
    assert.equal((await h.site(site, 'POST', `/v1/site/tickets/${running.ticket}/extensions/${id}`, {})).status, 400);
    const other = await h.enroll('site2');
    assert.equal((await h.site(other, 'POST', `/v1/site/tickets/${running.ticket}/extensions/${id}`, { accept: true })).status, 404);
    assert.equal((await view(h, running.ticket)).deadlineAt, running.deadlineAt, 'nothing moved');
    await h.operator('POST', `/v1/tickets/${running.ticket}/end`);
  });
});

onPostgres('time limit warnings', (database) => {
  void test('two replicas sweeping at once warn a ticket once', async () => {
    const db = await database();
    const a = await Harness.create({ db });
    const b = await Harness.create({ db });
    try {
      await a.registerHub('hub1', '100.64.0.0/24', 8);
      b.shareHubToken('hub1', await a.hubToken('hub1'));
      const site = await a.enroll('site1');
      const { ticket } = await started(a, site, { timeLimitMs: 15 * M });
      a.advance(6 * M);
      b.advance(6 * M);
      const results = await Promise.all([warnTicket(a.ctx, ticket), warnTicket(b.ctx, ticket), sweep(a.ctx), sweep(b.ctx)]);
      assert.equal(results.filter((r) => r === true).length <= 1, true);
      assert.equal((await actions(a, ticket)).filter((x) => x === 'ticket.warned').length, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
