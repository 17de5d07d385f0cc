// Benchmark: how long the center takes to render the console's ticket queue (and a ticket) with 10,000 tickets in the store.
//
// The tickets are written straight into a real store (SQLite by default); the pages are requested
// through the center's own Fastify app (`inject`: routing, session, queries and rendering, no socket),
// logged in as a real operator. Run alone (`node bench/console-render.ts`) or through bench/run.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { buildApi } from '../src/center/api/app.ts';
import { ChangeBus } from '../src/center/change-bus.ts';
import type { CenterContext } from '../src/center/context.ts';
import { consoleAuthenticator } from '../src/center/console/console-auth.ts';
import { consolePlugin } from '../src/center/console/console-plugin.ts';
import { setOperator } from '../src/center/console/operators.ts';
import { Sessions } from '../src/center/console/sessions.ts';
import { hubDesiredState, siteDesiredState } from '../src/center/desired-state.ts';
import { EventFeed } from '../src/center/event-feed.ts';
import { WatchHub } from '../src/center/watch-hub.ts';
import { parseCidr } from '../src/protocol/ip.ts';
import { openStore, type Store } from '../src/store/open-store.ts';
import { percentile } from './stats.ts';

export interface ConsoleRenderResult {
  store: string;
  tickets: number;
  requests: number;
  pages: { page: string; medianMs: number; p95Ms: number; bytes: number }[];
}

const CLOSED = ['ended', 'ended', 'ended', 'cancelled', 'expired', 'failed'] as const;
const OPEN = ['waiting', 'ready', 'in_progress'] as const;
const URGENCY = ['low', 'normal', 'high'] as const;


/** `tickets` tickets over 50 sites, 2% of them open, each with 1–2 devices and 3 audit events. */
async function seed(store: Store, tickets: number, now: number): Promise<void> {
  const db = store.db;
  await db.insertInto('hubs').values({ name: 'hub1', endpoint: '192.0.2.1:51820', block: '100.64.0.0/16', address: '100.64.0.1', capacity: 1000, public_key: 'A'.repeat(43) + '=', registered_at: now, last_seen_at: now }).execute();
  const sites = Array.from({ length: 50 }, (_, i) => `site-${String(i + 1).padStart(3, '0')}`);
  await db.insertInto('sites').values(sites.map((id, i) => ({ id, public_key: 'B'.repeat(43) + '=', secret: 'x', psk: 'y', lan: '["192.168.1.0/24"]', public_address: `203.0.113.${i + 1}`, enrolled_at: now - 86_400_000, last_seen_at: now }))).execute();
  const chunk = 500;
  for (let start = 0; start < tickets; start += chunk) {
    await db.transaction().execute(async (trx) => {
      const rows = Array.from({ length: Math.min(chunk, tickets - start) }, (_, k) => {
        const n = start + k;
        const open = n % 50 === 0;
        const created = now - (tickets - n) * 60_000;
        return {
          site: sites[n % sites.length] as string, state: open ? OPEN[n % 3] as string : CLOSED[n % CLOSED.length] as string, requester: `Requester ${n}`, level: n % 7 === 0 ? 'admin' : 'user',
          urgency: URGENCY[n % 3] as string, phone: `+81 3 5555 ${String(n % 10_000).padStart(4, '0')}`, description: `Ticket ${n}: the device stopped answering <after an update> & needs a look.`,
          public_address: `203.0.113.${(n % 50) + 1}`, hub: 'hub1', created_at: created, updated_at: created + 60_000, ready_at: created + 2000,
          started_at: open ? null : created + 10_000, ended_at: open ? null : created + 50_000, end_reason: open ? null : 'ended by the operator', site_revision: 1, hub_revision: 1,
        };
      });
      const inserted = await trx.insertInto('tickets').values(rows).returning('number').execute();
      await trx.insertInto('ticket_devices').values(inserted.flatMap((r, k) => [
        { ticket: r.number, device: 'nas', address: `100.64.${Math.floor((start + k) / 250) % 256}.${((start + k) % 250) + 2}` },
        ...((start + k) % 2 === 0 ? [{ ticket: r.number, device: 'printer', address: `100.65.${Math.floor((start + k) / 250) % 256}.${((start + k) % 250) + 2}` }] : []),
      ])).execute();
      await trx.insertInto('audit').values(inserted.flatMap((r) => ['ticket.opened', 'ticket.ready', 'ticket.ended'].map((action) => ({ at: now, actor: 'operator:ann', action, subject: `ticket:${r.number}`, detail: '{}' })))).execute();
    });
  }
}

/** Seeds a store with `tickets` tickets and measures `requests` renders of each console page. */
export async function benchConsoleRender(options: { tickets?: number; requests?: number; db?: string } = {}): Promise<ConsoleRenderResult> {
  const tickets = options.tickets ?? 10_000;
  const requests = options.requests ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-console-bench-'));
  const store = await openStore(options.db ?? join(dir, 'center.db'));
  const log = pino({ level: 'silent' });
  try {
    const now = Date.now();
    await seed(store, tickets, now);
    const config = { pool: parseCidr('100.64.0.0/10'), enrollSecret: new Uint8Array(32), operatorToken: 'o'.repeat(32), ticketTtlMs: 3_600_000, waitingTtlMs: 86_400_000, readyTimeoutMs: 120_000, hubStaleMs: 90_000, keepaliveSeconds: 25, maxSkewMs: 300_000 };
    const bus = new ChangeBus(log);
    const ctx: CenterContext = { config, db: store.db, dialect: store.dialect, log, now: Date.now, bus };
    const watch = new WatchHub(async (key) => key.startsWith('site:') ? siteDesiredState(store.db, config, key.slice(5)) : hubDesiredState(store.db, key.slice(4)), log);
    const feed = new EventFeed();
    bus.attach(watch, feed);
    const app = await buildApi({ ctx, watch, feed, plugins: [(scope) => consolePlugin(scope, ctx)], operatorSession: consoleAuthenticator(ctx) });
    await setOperator(store.db, 'ann', 'benchmark password', now);
    const session = await new Sessions(store.db, Date.now).create('ann');
    const cookie = `keyhole_session=${session.id}`;
    const lastPage = Math.ceil(tickets / 50);
    const pages = [
      ['queue (open, page 1)', '/console/'], ['queue (all, page 1)', '/console/?state=all'], [`queue (all, page ${lastPage})`, `/console/?state=all&page=${lastPage}`],
      ['queue (one site)', '/console/?state=all&site=site-007'], ['queue live fragment', '/console/fragments/queue?state=all'], ['ticket page', `/console/tickets/${Math.floor(tickets / 2)}`],
    ] as const;
    const result: ConsoleRenderResult = { store: store.dialect, tickets, requests, pages: [] };
    for (const [page, url] of pages) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < requests + 10; i++) {
        const started = performance.now();
        const response = await app.inject({ method: 'GET', url, headers: { cookie } });
        const ms = performance.now() - started;
        if (response.statusCode !== 200) throw new Error(`${url}: HTTP ${response.statusCode} ${response.body.slice(0, 200)}`);
        bytes = response.body.length;
        if (i >= 10) times.push(ms); // the first few warm caches and the JIT
      }
      result.pages.push({ page, medianMs: percentile(times, 50), p95Ms: percentile(times, 95), bytes });
    }
    await app.close();
    await watch.close();
    feed.close();
    return result;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatConsoleRender(result: ConsoleRenderResult): string {
  const lines = result.pages.map((p) => `  ${p.page.padEnd(28)} median ${p.medianMs.toFixed(2).padStart(7)} ms   p95 ${p.p95Ms.toFixed(2).padStart(7)} ms   ${(p.bytes / 1024).toFixed(0).padStart(4)} KiB`);
  return `console render, ${result.tickets.toLocaleString('en-US')} tickets in ${result.store}, ${result.requests} requests each (server side, fastify inject):\n${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(formatConsoleRender(await benchConsoleRender()));
}
