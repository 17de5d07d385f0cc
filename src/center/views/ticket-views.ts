// Read side for tickets: the operator's list (filtered, paged, sorted by urgency and age) and one ticket.
import { sql } from 'kysely';
import { KeyholeError } from '../../protocol/errors.ts';
import { OPEN_STATES, TICKET_STATES, type Level, type TicketState, type Urgency } from '../../protocol/schemas/common.ts';
import type { TicketList, TicketListQuery, TicketView } from '../../protocol/schemas/operator-api.ts';
import type { ServiceSpec } from '../../protocol/schemas/services.ts';
import { askedServicesOf, servicesOf } from '../service-columns.ts';
import { SiteObservedState, type AccessAsk, type AskState, type SiteTicket } from '../../protocol/schemas/site-api.ts';
import { extensionsOf, timeFieldsOf } from './time-views.ts';
import { fromJson } from '../../store/json-column.ts';
import type { TicketRow } from '../../store/schema.ts';
import type { Db } from '../context.ts';

/** `open`, `closed` or a comma list of states → the states to show. */
export function statesOf(filter: string | undefined): TicketState[] | null {
  if (filter === undefined || filter === '') return null;
  const states = new Set<TicketState>();
  for (const word of filter.split(',')) {
    if (word === 'open') OPEN_STATES.forEach((s) => states.add(s));
    else if (word === 'closed') TICKET_STATES.filter((s) => !(OPEN_STATES as readonly string[]).includes(s)).forEach((s) => states.add(s));
    else if ((TICKET_STATES as readonly string[]).includes(word)) states.add(word as TicketState);
  }
  return [...states];
}

async function attachDevices(db: Db, rows: TicketRow[]): Promise<TicketView[]> {
  if (rows.length === 0) return [];
  const devices = await db.selectFrom('ticket_devices').select(['ticket', 'device', 'address', 'services'])
    .where('ticket', 'in', rows.map((r) => r.number)).orderBy('ticket').orderBy('device').execute();
  const byTicket = new Map<number, { device: string; address: string; services: ServiceSpec }[]>();
  for (const d of devices) {
    const list = byTicket.get(Number(d.ticket)) ?? [];
    // A row that does not read admits nothing at the site (desired-state.ts): show it so.
    list.push({ device: d.device, address: d.address, services: servicesOf(d.services) });
    byTicket.set(Number(d.ticket), list);
  }
  const blocked = await blockedReasons(db, rows, byTicket);
  const asks = await asksOf(db, rows.map((r) => Number(r.number)));
  const extensions = await extensionsOf(db, rows.map((r) => Number(r.number)));
  return rows.map((r) => {
    const view = toView(r, byTicket.get(Number(r.number)) ?? []);
    const reason = blocked.get(Number(r.number));
    const mine = asks.get(Number(r.number));
    const more = extensions.get(Number(r.number));
    return { ...view, ...(reason === undefined ? {} : { blocked: reason }), ...(mine === undefined ? {} : { asks: mine }), ...(more === undefined ? {} : { extensions: more }) };
  });
}

/** The operators' asks of these tickets, oldest first; a row whose services do not read is left out. */
async function asksOf(db: Db, tickets: number[]): Promise<Map<number, AccessAsk[]>> {
  const rows = await db.selectFrom('ticket_asks').selectAll().where('ticket', 'in', tickets).orderBy('id').execute();
  const result = new Map<number, AccessAsk[]>();
  for (const row of rows) {
    const services = askedServicesOf(row.services);
    if (services === null) continue;
    const list = result.get(Number(row.ticket)) ?? [];
    list.push({
      ask: Number(row.id), device: row.device, services, state: row.state as AskState, askedBy: row.asked_by,
      askedAt: Number(row.asked_at), answeredAt: row.answered_at === null ? null : Number(row.answered_at),
    });
    result.set(Number(row.ticket), list);
  }
  return result;
}

/** Waiting tickets whose site reports a lease of theirs unreachable (or unmapped): why, from the site's last report. */
async function blockedReasons(db: Db, rows: TicketRow[], byTicket: Map<number, { device: string; address: string }[]>): Promise<Map<number, string>> {
  const waiting = rows.filter((r) => r.state === 'waiting');
  const result = new Map<number, string>();
  if (waiting.length === 0) return result;
  const sites = await db.selectFrom('sites').select(['id', 'observed']).where('id', 'in', [...new Set(waiting.map((r) => r.site))]).execute();
  const observed = new Map(sites.map((s) => [s.id, fromJson(s.observed, SiteObservedState)]));
  for (const r of waiting) {
    const leases = observed.get(r.site)?.leases ?? [];
    // One line per reason with the devices it holds back: a firewall that blocks them all is said once.
    const reasons = new Map<string, string[]>();
    for (const d of byTicket.get(Number(r.number)) ?? []) {
      const lease = leases.find((l) => l.device === d.device && l.address === d.address);
      const why = lease?.blocked ?? lease?.error;
      if (why !== undefined) reasons.set(why, [...(reasons.get(why) ?? []), d.device]);
    }
    if (reasons.size > 0) result.set(Number(r.number), [...reasons].map(([why, devices]) => `${why} (${devices.join(', ')})`).join('; ').slice(0, 1000));
  }
  return result;
}

function toView(r: TicketRow, leases: TicketView['leases']): TicketView {
  return {
    ticket: Number(r.number), site: r.site, state: r.state as TicketState, requester: r.requester, level: r.level as Level,
    urgency: r.urgency as Urgency, phone: r.phone, description: r.description, publicAddress: r.public_address, hub: r.hub,
    devices: leases.map((l) => l.device), leases, createdAt: r.created_at, updatedAt: r.updated_at, readyAt: r.ready_at,
    startedAt: r.started_at, startedBy: r.started_by, endedAt: r.ended_at, endReason: r.end_reason, ...timeFieldsOf(r),
  };
}

/** Open tickets first, then by urgency (high first), then oldest first; closed ones newest first. */
export async function listTickets(db: Db, query: TicketListQuery): Promise<TicketList> {
  const limit = query.limit ?? 50;
  const offset = query.offset ?? 0;
  const states = statesOf(query.state);
  let base = db.selectFrom('tickets');
  if (states !== null) base = base.where('state', 'in', states.length > 0 ? states : ['none']);
  if (query.site !== undefined) base = base.where('site', '=', query.site);
  const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const openRank = sql<number>`case when state in ('waiting', 'ready', 'in_progress') then 0 else 1 end`;
  const urgencyRank = sql<number>`case when state not in ('waiting', 'ready', 'in_progress') then 0 when urgency = 'high' then 0 when urgency = 'normal' then 1 else 2 end`;
  const age = sql<number>`case when state in ('waiting', 'ready', 'in_progress') then created_at else -created_at end`;
  const rows = await base.selectAll().orderBy(openRank).orderBy(urgencyRank).orderBy(age).orderBy('number')
    .limit(limit).offset(offset).execute();
  return { tickets: await attachDevices(db, rows), total: Number(total.n), limit, offset };
}

export async function getTicket(db: Db, ticket: number): Promise<TicketView> {
  const row = await db.selectFrom('tickets').selectAll().where('number', '=', ticket).executeTakeFirst();
  if (row === undefined) throw new KeyholeError('TICKET_UNKNOWN', `there is no ticket ${ticket}`);
  const [view] = await attachDevices(db, [row]);
  return view as TicketView;
}

/** What a site may see of its own ticket. */
export async function getSiteTicket(db: Db, site: string, ticket: number): Promise<SiteTicket> {
  const view = await getTicket(db, ticket);
  if (view.site !== site) throw new KeyholeError('TICKET_UNKNOWN', `there is no ticket ${ticket} for site ${site}`);
  return {
    ticket: view.ticket, state: view.state, leases: view.leases, createdAt: view.createdAt, updatedAt: view.updatedAt, startedBy: view.startedBy, startedAt: view.startedAt,
    ...(view.asks === undefined ? {} : { asks: view.asks }),
    timeLimitMs: view.timeLimitMs ?? null, deadlineAt: view.deadlineAt ?? null, warnedAt: view.warnedAt ?? null,
    ...(view.extensions === undefined ? {} : { extensions: view.extensions }),
  };
}
