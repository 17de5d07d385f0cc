// The watch-stream miss of the lab (2026-12-01: a ticket's tunnel reached its site only at the next 30 s resync): a
// revision check's answer, read by the center before a commit but received by the agent after the watch stream brought
// that commit, must not take the newer state's place. A real center on loopback and the real state sync; the test holds
// the check's answer in flight while the stream delivers, and the agent's clock stands still (no further check can mend it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { CenterClient } from '../../src/agent/center-client.ts';
import { runStateSync, type ApplyReason, type StateSyncOptions } from '../../src/agent/state-sync.ts';
import { StreamDemand } from '../../src/agent/stream-demand.ts';
import { ROUTES } from '../../src/protocol/routes.ts';
import { StateUnchanged } from '../../src/protocol/schemas/common.ts';
import { SiteDesiredState, SiteTicket } from '../../src/protocol/schemas/site-api.ts';
import { siteSigner } from '../../src/site/enrollment.ts';
import { Harness } from '../support/center-harness.ts';
import { eventually } from '../support/eventually.ts';
import { FakeClock } from '../support/fake-clock.ts';

const log = pino({ level: process.env.KEYHOLE_TEST_LOG ?? 'silent' });

interface Applied { revision: number; reason: ApplyReason; tunnel: boolean }

test('a revision check overtaken in flight by the watch stream does not undo the newer state (the tunnel stays applied)', { timeout: 60_000 }, async () => {
  const h = await Harness.create();
  const stop = new AbortController();
  const client = (url: string) => new CenterClient({ url });
  let center: CenterClient | null = null;
  try {
    const sync = (): void => h.advance(Date.now() - h.now);
    sync();
    await h.registerHub('hub1', '100.64.0.0/24', 4);
    const site = await h.enroll('site1');
    await h.hubConverges('hub1');
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const address = h.app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    center = client(`http://127.0.0.1:${address.port}`);
    const real = center;
    const auth = siteSigner(site.id, site.secret);

    // The next state fetch armed here is answered by the center at once, but handed to the agent only on release.
    let gate: { release: () => void; released: Promise<void>; answered: number | null } | null = null;
    const arm = () => {
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => { release = resolve; });
      const armed = { release, released, answered: null as number | null };
      gate = armed;
      return armed;
    };
    const call = (async (method: string, path: string, payload: unknown, schema: never, options: { signal: AbortSignal; auth: typeof auth }) => {
      const got = await real.call(method, path, payload, schema, options) as { revision: number };
      const held = gate;
      if (held !== null && method === 'GET' && path.startsWith(ROUTES.siteState)) {
        gate = null;
        held.answered = got.revision;
        await held.released;
      }
      return got;
    }) as StateSyncOptions<typeof SiteDesiredState>['client']['call'];

    const clock = new FakeClock(Date.now());
    const streams = StreamDemand.onWork(clock, 240_000);
    const applies: Applied[] = [];
    const running = runStateSync({
      client: { call, open: real.open.bind(real) }, auth, statePath: ROUTES.siteState, watchPath: ROUTES.siteWatch,
      schema: SiteDesiredState, unchanged: StateUnchanged, resyncMs: 30_000, log, clock, streams, jitter: (ms) => ms,
      needsStream: (state) => state.tickets.length > 0 || state.tunnel !== null,
      apply: async (state, reason) => { applies.push({ revision: state.revision, reason, tunnel: state.tunnel !== null }); },
    }, stop.signal);
    await eventually('the start state applied', async () => (applies.some((a) => a.reason === 'start') ? true : undefined), 20_000, 10);

    // The request for help: the ticket commits, then the site wakes (stream opens, revision check runs).
    sync();
    const ticket = await real.call('POST', ROUTES.siteTickets, { requester: 'Ann', level: 'user', devices: ['dev1'], urgency: 'low' }, SiteTicket, { signal: stop.signal, auth });
    const held = arm();
    streams.wake();
    await eventually('the check answered (and held) and the stream\'s first state applied', async () =>
      (held.answered !== null && applies.some((a) => a.reason === 'watch' && a.revision === held.answered) ? true : undefined), 20_000, 10);
    const before = applies.length;

    // The hub holds the peer: the site's tunnel commits and comes down the stream.
    sync();
    await h.hubConverges('hub1');
    const tunnel = await eventually('the tunnel state from the stream', async () => applies.slice(before).find((a) => a.tunnel), 20_000, 10);
    assert.ok(tunnel.revision > (held.answered ?? 0), `the tunnel (revision ${tunnel.revision}) is newer than the held answer (${held.answered})`);

    // Now the older answer arrives: it must re-check the newest state, not go back to the one without the tunnel.
    const released = applies.length;
    held.release();
    const after = await eventually('the held answer handled', async () => applies.slice(released).find((a) => a.reason === 'resync'), 20_000, 10);
    assert.deepEqual(after, { revision: tunnel.revision, reason: 'resync', tunnel: true }, `ticket ${ticket.ticket}: the tunnel must stay applied`);
    assert.equal(applies.at(-1)?.tunnel, true);
    stop.abort();
    await running;
  } finally {
    stop.abort();
    center?.close();
    await h.close();
  }
});
