// The ticket queue page: what the patent's operator screen shows, open tickets first by urgency and age, filtered and paged.
import { html, type SafeHtml } from '../../web/html.ts';
import { isOpenState, OPEN_STATES, type OpenState } from '../../protocol/schemas/common.ts';
import type { TicketList, TicketView } from '../../protocol/schemas/operator-api.ts';
import {
  ageText, fullTime, levelBadge, leaseLine, pager, plural, stateBadge, STATE_LABEL, timeCell, urgencyBadge,
} from './format.ts';
import { csrfField } from './layout.ts';
import type { Session } from './sessions.ts';

export const PAGE_SIZE = 50;

/** The queue's filter: `open` (default), `all`, `closed` or one state; a site; a page (1-based). */
export interface QueueQuery { state: string; site: string | null; page: number }

export interface QueueModel {
  query: QueueQuery;
  list: TicketList;
  /** Open tickets by state, over the whole store (or the filtered site). */
  counts: Record<OpenState, number>;
  sites: string[];
  now: number;
  session: Session;
}

const STATE_CHOICES: [string, string][] = [
  ['open', 'Open'], ['all', 'All'], ['waiting', STATE_LABEL.waiting], ['ready', 'Ready'], ['in_progress', 'In progress'],
  ['closed', 'Closed'], ['ended', 'Ended'], ['cancelled', 'Cancelled'], ['expired', 'Expired'], ['failed', 'Failed'],
];

/** The URL of the queue with this filter (the live region's too, with `fragment`). */
export function queueHref(query: QueueQuery, fragment = false): string {
  const params = new URLSearchParams();
  if (query.state !== 'open') params.set('state', query.state);
  if (query.site !== null) params.set('site', query.site);
  if (query.page > 1) params.set('page', String(query.page));
  const search = params.toString();
  return `${fragment ? '/console/fragments/queue' : '/console/'}${search === '' ? '' : `?${search}`}`;
}

/** Start and End buttons as small forms; they work without the script. */
export function ticketActions(ticket: TicketView, session: Session, returnTo: string): SafeHtml {
  if (!isOpenState(ticket.state)) return html``;
  const hidden = html`${csrfField(session)}<input type="hidden" name="return" value="${returnTo}">`;
  const start = ticket.state === 'in_progress' ? html`` : html`<form method="post" action="/console/tickets/${ticket.ticket}/start" class="inline">${hidden}<button type="submit" class="start"${ticket.state === 'waiting' && html` disabled title="The tunnel is not up yet"`} aria-label="Start ticket ${ticket.ticket}">Start</button></form>`;
  const end = html`<form method="post" action="/console/tickets/${ticket.ticket}/end" class="inline">${hidden}<button type="submit" class="end" aria-label="End ticket ${ticket.ticket}">End</button></form>`;
  return html`${start}${end}`;
}

function row(ticket: TicketView, model: QueueModel, returnTo: string): SafeHtml {
  const open = isOpenState(ticket.state);
  const sinceState = ticket.endedAt ?? ticket.startedAt ?? ticket.readyAt ?? ticket.createdAt;
  return html`<tr data-ticket="${ticket.ticket}" class="${open ? 'open' : 'closed'}">
<td class="num"><a href="/console/tickets/${ticket.ticket}">${ticket.ticket}</a></td>
<td class="state">${stateBadge(ticket.state)}<span class="age" data-at="${sinceState}" title="${`since ${fullTime(sinceState)}`}">${ageText(sinceState, model.now)}</span></td>
<td>${urgencyBadge(ticket.urgency)}</td>
<td>${timeCell(ticket.createdAt, model.now)}</td>
<td><a href="${queueHref({ state: model.query.state, site: ticket.site, page: 1 })}">${ticket.site}</a><span class="sub mono">${ticket.publicAddress ?? '—'}</span></td>
<td class="requester">${ticket.requester} ${levelBadge(ticket.level)}<span class="sub">${ticket.phone ?? ''}</span></td>
<td><div class="desc" title="${ticket.description ?? ''}">${ticket.description ?? html`<span class="muted">—</span>`}</div></td>
<td>${open ? html`<ul class="leases">${ticket.leases.map((l) => leaseLine(l.device, l.address, l.services))}</ul>`
    : html`<span class="muted">${ticket.leases.map((l) => l.device).join(', ')}</span>`}</td>
<td class="actions">${ticketActions(ticket, model.session, returnTo)}</td>
</tr>`;
}

/** Heading and the filter form (outside the live region: typing in it is never interrupted). */
export function queueIntro(model: QueueModel): SafeHtml {
  const { query } = model;
  return html`<div class="page-head">
<div><h1>Tickets</h1><p class="muted">Open tickets first, most urgent and oldest at the top.</p></div>
<form method="get" action="/console/" class="filters" role="search">
<div><label for="f-state">State</label><select id="f-state" name="state">${STATE_CHOICES.map(([value, label]) => html`<option value="${value}"${value === query.state && html` selected`}>${label}</option>`)}</select></div>
<div><label for="f-site">Site</label><input id="f-site" type="search" name="site" list="site-list" value="${query.site ?? ''}" placeholder="all sites" size="16"></div>
<datalist id="site-list">${model.sites.map((s) => html`<option value="${s}">`)}</datalist>
<button type="submit">Filter</button>
${(query.site !== null || query.state !== 'open') && html`<a href="/console/">Clear</a>`}
</form>
</div>`;
}

/** Counts, the table and the pager: what the script refreshes when tickets change. */
export function queueRegion(model: QueueModel): SafeHtml {
  const { list, query } = model;
  const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
  const first = list.total === 0 ? 0 : list.offset + 1;
  const shown = `${first.toLocaleString('en-US')}–${(list.offset + list.tickets.length).toLocaleString('en-US')} of ${plural(list.total, 'ticket')}`;
  const returnTo = queueHref(query);
  return html`<div class="chips" aria-label="Open tickets by state">
${OPEN_STATES.map((s) => html`<a class="chip" href="${queueHref({ state: s, site: query.site, page: 1 })}"><b>${model.counts[s]}</b> ${STATE_LABEL[s].toLowerCase()}</a>`)}
</div>
<div class="panel scroll">
<table class="queue" aria-label="Tickets">
<thead><tr><th scope="col">No.</th><th scope="col">State</th><th scope="col">Urgency</th><th scope="col">Received (UTC)</th><th scope="col">Site · public address</th><th scope="col">Requester · phone</th><th scope="col">Description</th><th scope="col">Leases: device → address</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>
${list.tickets.map((t) => row(t, model, returnTo))}
</tbody>
</table>
${list.tickets.length === 0 && html`<p class="empty">No tickets match this filter.</p>`}
</div>
${pager(query.page, pages, shown, (page) => queueHref({ ...query, page }))}`;
}
