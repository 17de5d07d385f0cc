// The operator CLI: `keyhole tickets|sites (list|token|reset)|hubs|pool|faults|incidents|audit`, on the same API as the console.
import { Command } from 'commander';
import { bearer, CenterClient } from '../agent/center-client.ts';
import { KeyholeError } from '../protocol/errors.ts';
import { ROUTES } from '../protocol/routes.ts';
import Type from 'typebox';
import { AuditEvent, FaultView, HubView, IncidentView, PoolView, SiteView, TicketList, TicketView } from '../protocol/schemas/operator-api.ts';
import type { TSchema } from 'typebox';
import { durationOption, intArg, nameArg, readSecretFile, readTextFile } from './options.ts';
import { EnrollTokenIssued } from '../protocol/schemas/enroll-api.ts';
import { ago, table, when } from './table.ts';
import { withHubLifecycle, withSiteLifecycle } from './lifecycle-commands.ts';
import { allPages } from './pages.ts';

export interface OperatorFlags { center?: string; tokenFile?: string; centerCa?: string; json: boolean }

export function withOperatorFlags(command: Command): Command {
  return command
    .option('--center <url>', 'the center (default $KEYHOLE_CENTER)')
    .option('--token-file <file>', 'file holding the operator token (default $KEYHOLE_TOKEN or $KEYHOLE_TOKEN_FILE)')
    .option('--center-ca <file>', 'CA certificate of the center (default $KEYHOLE_CENTER_CA)')
    .option('--json', 'print JSON', false);
}

function connect(flags: OperatorFlags): { client: CenterClient; token: string } {
  const url = flags.center ?? process.env.KEYHOLE_CENTER;
  if (url === undefined || url === '') throw new KeyholeError('BAD_CONFIG', 'give --center URL or set KEYHOLE_CENTER');
  const tokenFile = flags.tokenFile ?? process.env.KEYHOLE_TOKEN_FILE;
  const token = tokenFile !== undefined && tokenFile !== '' ? readSecretFile(tokenFile, 'operator token').secret : process.env.KEYHOLE_TOKEN;
  if (token === undefined || token === '') throw new KeyholeError('BAD_CONFIG', 'give --token-file F or set KEYHOLE_TOKEN (or KEYHOLE_TOKEN_FILE)');
  const caFile = flags.centerCa ?? process.env.KEYHOLE_CENTER_CA;
  const ca = caFile === undefined || caFile === '' ? undefined : readTextFile(caFile, 'center CA');
  return { client: new CenterClient({ url, ...(ca === undefined ? {} : { ca }) }), token };
}

export async function call<S extends TSchema>(flags: OperatorFlags, method: string, path: string, schema: S, body?: unknown): Promise<Type.Static<S>> {
  const { client, token } = connect(flags);
  try {
    return await client.call(method, path, body, schema, { signal: AbortSignal.timeout(30_000), auth: bearer(token) });
  } finally {
    client.close();
  }
}

/** Every row of a paginated list (`--limit N`: the first N), following the center's pages. */
async function list<S extends TSchema>(flags: OperatorFlags & { limit?: number }, path: string, schema: S): Promise<Type.Static<S>[]> {
  const { client, token } = connect(flags);
  try {
    return await allPages(client, path, schema, bearer(token), { signal: AbortSignal.timeout(120_000), limit: flags.limit });
  } finally {
    client.close();
  }
}

const limitOption = (command: Command): Command => command.option('--limit <n>', 'at most this many rows (default: all, page by page)', intArg(1, Number.MAX_SAFE_INTEGER));

export function print(flags: OperatorFlags, value: unknown, text: () => string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(value)}\n` : text());
}

function ticketRows(tickets: TicketView[]): string {
  return table(['TICKET', 'STATE', 'SITE', 'URGENCY', 'LEVEL', 'REQUESTER', 'RECEIVED', 'LEASES'],
    tickets.map((t) => [t.ticket, t.state, t.site, t.urgency, t.level, t.requester, when(t.createdAt), t.leases.map((l) => `${l.device}=${l.address}`).join(' ')]))
    // Why a waiting ticket is not ready, under the table (a column would be too wide for the reason).
    + tickets.flatMap((t) => t.blocked === undefined ? [] : [`ticket ${t.ticket} not reachable: ${t.blocked}\n`]).join('');
}

function ticketDetail(t: TicketView): string {
  const lines = [
    `ticket ${t.ticket}: ${t.state}${t.endReason === null ? '' : ` (${t.endReason})`}`,
    `site ${t.site} from ${t.publicAddress ?? '-'} via hub ${t.hub ?? '-'}`,
    `requester ${t.requester} (${t.level}), urgency ${t.urgency}, phone ${t.phone ?? '-'}`,
    `description ${t.description ?? '-'}`,
    `received ${when(t.createdAt)}, ready ${when(t.readyAt)}, started ${when(t.startedAt)}, ended ${when(t.endedAt)}`,
    ...(t.blocked === undefined ? [] : [`not reachable: ${t.blocked}`]),
    ...(t.deadlineAt === undefined || t.deadlineAt === null ? [] : [`deadline ${when(t.deadlineAt)}${t.warnedAt === undefined || t.warnedAt === null ? '' : ` (warned ${when(t.warnedAt)})`}`]),
    ...(t.extensions ?? []).map((e) => `  more time ${e.extension}: +${Math.round(e.extendMs / 60_000)} min asked by ${e.askedBy}, ${e.state}`),
    ...t.leases.map((l) => `  ${l.device.padEnd(16)} ${l.address}    ssh ${l.address} | http://${l.address}/`),
  ];
  return `${lines.join('\n')}\n`;
}

function ticketsCommand(): Command {
  const tickets = new Command('tickets').description('list, show, start and end tickets');
  tickets.addCommand(withOperatorFlags(new Command('list')).description('tickets, open first by urgency and age')
    .option('--state <states>', 'open, closed, or a comma list of states', 'open')
    .option('--site <site>', 'only this site')
    .option('--limit <n>', 'at most this many', intArg(1, 500), 50)
    .option('--offset <n>', 'skip this many', intArg(0, Number.MAX_SAFE_INTEGER), 0)
    .action(async (flags: OperatorFlags & { state: string; site?: string; limit: number; offset: number }) => {
      const query = new URLSearchParams({ state: flags.state, limit: String(flags.limit), offset: String(flags.offset), ...(flags.site === undefined ? {} : { site: flags.site }) });
      const list = await call(flags, 'GET', `${ROUTES.tickets}?${query}`, TicketList);
      print(flags, list, () => `${ticketRows(list.tickets)}(${list.tickets.length} of ${list.total})\n`);
    }));
  const one = (name: string, description: string, method: string, path: (n: number) => string) =>
    withOperatorFlags(new Command(name)).description(description).argument('<ticket>', 'ticket number', intArg(1, Number.MAX_SAFE_INTEGER))
      .action(async (n: number, flags: OperatorFlags) => {
        const ticket = await call(flags, method, path(n), TicketView, method === 'POST' ? {} : undefined);
        print(flags, ticket, () => ticketDetail(ticket));
      });
  tickets.addCommand(one('show', 'one ticket with its leases', 'GET', ROUTES.ticket));
  tickets.addCommand(one('start', 'start work on a ready ticket', 'POST', ROUTES.ticketStart));
  tickets.addCommand(one('end', 'end a ticket: its leases go back to the pool', 'POST', ROUTES.ticketEnd));
  tickets.addCommand(withOperatorFlags(new Command('extend')).description("ask the site's user for more time: the deadline moves only when the user accepts on the help page")
    .argument('<ticket>', 'ticket number', intArg(1, Number.MAX_SAFE_INTEGER))
    .addOption(durationOption('--by <duration>', 'how much more time', 30 * 60_000))
    .action(async (n: number, flags: OperatorFlags & { by: number }) => {
      const ticket = await call(flags, 'POST', `/v1/tickets/${n}/extensions`, TicketView, { byMs: flags.by });
      print(flags, ticket, () => ticketDetail(ticket));
    }));
  return tickets;
}

/** `keyhole sites token|reset ID`: a one-time enrollment token, printed once (the center keeps its hash). */
function tokenCommand(name: 'token' | 'reset', description: string, path: (site: string) => string): Command {
  return withOperatorFlags(new Command(name)).description(description).argument('<site>', 'the site id', nameArg)
    .addOption(durationOption('--expires <duration>', 'how long the token stays valid', 24 * 3_600_000))
    .action(async (site: string, flags: OperatorFlags & { expires: number }) => {
      const issued = await call(flags, 'POST', path(site), EnrollTokenIssued, { expiresInMs: flags.expires });
      print(flags, issued, () => `${issued.token}\n`);
      if (!flags.json) process.stderr.write(`one-time ${issued.purpose} token for site ${site}, valid until ${when(issued.expiresAt)}; give it to the site as --enroll-token-file\n`);
    });
}

/** An agent's release as the tables show it: `0.1.0 (protocol 1)`; empty until it called. */
function release(agent: { agentVersion: string | null; agentProtocol: number | null }): string {
  return agent.agentProtocol === null ? '' : `${agent.agentVersion ?? 'unknown'} (protocol ${agent.agentProtocol})`;
}

function sitesCommand(): Command {
  return withSiteLifecycle(new Command('sites').description('enrolled sites'))
    .addCommand(tokenCommand('token', 'issue a one-time token for the first enrollment of a new site id', ROUTES.siteEnrollToken))
    .addCommand(tokenCommand('reset', 'issue a one-time token that lets an enrolled site re-enroll once with a new key (audited as an alert)', ROUTES.siteReset))
    .addCommand(limitOption(withOperatorFlags(new Command('list'))).description('sites, their tunnels, open tickets and faults')
    .action(async (flags: OperatorFlags & { limit?: number }) => {
      const sites = await list(flags, ROUTES.sites, SiteView);
      print(flags, sites, () => table(['SITE', 'PUBLIC ADDRESS', 'LAN', 'HUB', 'OPEN', 'LAST SEEN', 'ONLINE', 'STREAM', 'HANDSHAKE', 'FAULTS', 'STATE', 'VERSION'],
        sites.map((s) => [s.site, s.publicAddress, s.lan.join(','), s.hub, s.openTickets, ago(s.lastSeenAt), s.online ? 'yes' : 'no', s.stream ? 'yes' : 'no', ago(s.handshakeAt), s.faults.map((f) => f.code).slice(0, 3).join(','), s.revokedAt === null ? 'active' : 'revoked', release(s)])));
    }));
}

function hubsCommand(): Command {
  return withHubLifecycle(new Command('hubs').description('hubs')).addCommand(limitOption(withOperatorFlags(new Command('list'))).description('hubs, slots used and health')
    .action(async (flags: OperatorFlags & { limit?: number }) => {
      const hubs = await list(flags, ROUTES.hubs, HubView);
      print(flags, hubs, () => table(['HUB', 'ENDPOINT', 'BLOCK', 'SLOTS', 'LEASES', 'HEALTH', 'LAST SEEN', 'VERSION'],
        hubs.map((h) => [h.hub, h.endpoint, h.block, `${h.slotsUsed}/${h.capacity}`, h.leases, `${h.healthy ? 'healthy' : 'stale'}${h.drainedAt === null ? '' : ', drained'}`, ago(h.lastSeenAt), release(h)])));
    }));
}

function poolCommand(): Command {
  return withOperatorFlags(new Command('pool')).description('pool usage: leased / size, per hub block')
    .action(async (flags: OperatorFlags) => {
      const pool = await call(flags, 'GET', ROUTES.pool, PoolView);
      print(flags, pool, () => `pool ${pool.cidr}: ${pool.leased} leased of ${pool.size} (${pool.releasing} releasing)\n`
        + table(['HUB', 'BLOCK', 'LEASED', 'SIZE'], pool.hubs.map((h) => [h.hub, h.block, h.leased, h.size])));
    });
}

function faultsCommand(): Command {
  return new Command('faults').description('faults sites reported').addCommand(limitOption(withOperatorFlags(new Command('list'))).description('faults, newest first')
    .action(async (flags: OperatorFlags & { limit?: number }) => {
      const faults = await list(flags, ROUTES.faults, FaultView);
      print(flags, faults, () => table(['FAULT', 'SITE', 'CODE', 'REPORTED', 'COUNT', 'TICKET', 'HELD', 'DETAIL'],
        faults.map((f) => [f.fault, f.site, f.code, when(f.reportedAt), f.count ?? 1, f.ticket, f.held ?? null, f.detail])));
    }));
}

/** `keyhole incidents list|resolve CODE`: open faults without a ticket, one row per code (a storm is one line). */
function incidentsCommand(): Command {
  const list = withOperatorFlags(new Command('list')).description('open faults without a ticket, by code, the largest first')
    .action(async (flags: OperatorFlags) => {
      const incidents = await call(flags, 'GET', ROUTES.incidents, Type.Array(IncidentView));
      print(flags, incidents, () => table(['CODE', 'SITES', 'REPORTS', 'SINCE', 'LAST', 'TICKETS OPEN', 'HELD'],
        incidents.map((i) => [i.code, i.sites, i.reports, when(i.since), ago(i.lastSeenAt), i.ticketsOpen, Object.entries(i.held).map(([k, v]) => `${k}:${v}`).join(',')])));
    });
  const resolve = withOperatorFlags(new Command('resolve')).description("close a code's incident: its faults end, the next report of the code is new").argument('<code>')
    .action(async (code: string, flags: OperatorFlags) => {
      const answer = await call(flags, 'POST', ROUTES.incidentResolve(code), Type.Object({ code: Type.String(), faults: Type.Integer() }));
      print(flags, answer, () => `${answer.faults} faults of ${answer.code} closed\n`);
    });
  return new Command('incidents').description('fault storms: faults waiting without an automatic ticket').addCommand(list).addCommand(resolve);
}

function auditCommand(): Command {
  return withOperatorFlags(new Command('audit')).description('audit events, newest first')
    .option('--limit <n>', 'at most this many, newest first, page by page', intArg(1, Number.MAX_SAFE_INTEGER), 50)
    .option('--subject <subject>', 'only events about this subject, e.g. ticket:12 or site:site1')
    .action(async (flags: OperatorFlags & { limit: number; subject?: string }) => {
      const query = new URLSearchParams(flags.subject === undefined ? {} : { subject: flags.subject });
      const events = await list(flags, `${ROUTES.audit}${flags.subject === undefined ? '' : `?${query}`}`, AuditEvent);
      print(flags, events, () => table(['ID', 'AT', 'ACTOR', 'ACTION', 'SUBJECT', 'DETAIL'],
        events.map((e) => [e.id, when(e.at), e.actor, e.action, e.subject, JSON.stringify(e.detail).slice(0, 120)])));
    });
}

export function operatorCommands(): Command[] {
  return [ticketsCommand(), sitesCommand(), hubsCommand(), poolCommand(), faultsCommand(), incidentsCommand(), auditCommand()];
}
