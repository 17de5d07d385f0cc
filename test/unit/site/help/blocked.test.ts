import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { byteCount, ticketRegion, type TicketModel } from '../../../../src/site/help/page.ts';
import { helpText } from '../../../../src/site/help/text.ts';

const model = (state: TicketModel['state'], blocked: string[]): TicketModel => ({
  t: helpText('en'), ticket: 7, state, leases: [{ device: 'dev1', address: '100.64.0.3' }], createdAt: 0, startedBy: null, startedAt: null, openNow: [], blocked, connections: [], stale: null, csrf: 'x',
});

describe('help page ticket view: why a waiting request is not reachable', () => {
  test('a waiting request shows the path check reason, escaped', () => {
    const page = ticketRegion(model('waiting', ["dev1: the gateway's firewall drops forwarded traffic in inet fw4 forward <b>"])).toString();
    assert.match(page, /Not reachable yet:<\/b> dev1: the gateway&#39;s firewall drops forwarded traffic in inet fw4 forward &lt;b&gt;/);
  });

  test('a ready request, or one with nothing blocked, shows no such line', () => {
    assert.doesNotMatch(ticketRegion(model('ready', ['dev1: x'])).toString(), /Not reachable/);
    assert.doesNotMatch(ticketRegion(model('waiting', [])).toString(), /Not reachable/);
  });
});

describe('help page ticket view: who is working, and what each connection carried', () => {
  test('the operator who started work and when; nothing before work starts', () => {
    const started = { ...model('in_progress', []), startedBy: 'operator:ann<b>', startedAt: Date.UTC(2026, 11, 1, 14, 2, 5) };
    assert.match(ticketRegion(started).toString(), /Work started on <b>December 1, 2026 at 14:02:05 UTC<\/b> by <b>operator ann&lt;b&gt;<\/b>/);
    assert.match(ticketRegion({ ...started, t: helpText('ja') }).toString(), /<b>operator ann&lt;b&gt;<\/b>が<b>2026年12月1日 14:02:05 UTC<\/b>に作業を始めました。/);
    assert.doesNotMatch(ticketRegion(model('ready', [])).toString(), /Work started/);
  });

  test('each connection shows lease, port, protocol and bytes both ways', () => {
    const m = { ...model('in_progress', []), connections: [{ key: '1', at: 0, device: 'dev1', address: '100.64.0.3', port: 443, protocol: 'tcp', bytes: { toDevice: 2048, fromDevice: 1_250_000 }, ended: true as const }] };
    const page = ticketRegion(m).toString();
    assert.match(page, /<td>dev1<\/td><td>100\.64\.0\.3<\/td><td>443<\/td><td>tcp<\/td><td>2\.0 kB<\/td><td>1\.3 MB<\/td>/);
    assert.equal(byteCount(undefined), '—');
    assert.equal(byteCount(999), '999 B');
  });
});
