// One ticket's page: every field of the request, its leases with how to reach them, Start and End, and its history.
import { html, type SafeHtml } from '../../web/html.ts';
import { isOpenState } from '../../protocol/schemas/common.ts';
import type { AuditEvent, TicketView } from '../../protocol/schemas/operator-api.ts';
import { levelBadge, stateBadge, timeCell, urgencyBadge } from './format.ts';
import { csrfField } from './layout.ts';
import type { Session } from './sessions.ts';
import { asksSection, leasesTable } from './ticket-asks.ts';

export interface TicketModel {
  ticket: TicketView;
  history: AuditEvent[];
  now: number;
  session: Session;
}

function actions(t: TicketView, session: Session): SafeHtml {
  if (!isOpenState(t.state)) return html``;
  const back = html`${csrfField(session)}<input type="hidden" name="return" value="/console/tickets/${t.ticket}">`;
  return html`<div class="actions">
${t.state !== 'in_progress' && html`<form method="post" action="/console/tickets/${t.ticket}/start" class="inline">${back}<button type="submit" class="start"${t.state === 'waiting' && html` disabled title="The tunnel is not up yet"`}>Start work</button></form>`}
<form method="post" action="/console/tickets/${t.ticket}/end" class="inline">${back}<label class="visually-hidden" for="end-reason">Reason</label><input id="end-reason" type="text" name="reason" maxlength="500" placeholder="reason (optional)" size="22"> <button type="submit" class="end">End ticket</button></form>
</div>`;
}

function history(events: AuditEvent[], now: number): SafeHtml {
  if (events.length === 0) return html`<p class="empty">No events.</p>`;
  return html`<ol class="timeline">${events.map((e) => html`<li>${timeCell(e.at, now)} <b>${e.action.replace(/^ticket\./, '')}</b> <span class="muted">by ${e.actor}</span>${typeof e.detail['reason'] === 'string' && html` — ${e.detail['reason']}`}</li>`)}</ol>`;
}

/** The live region of the ticket page. */
export function ticketRegion(model: TicketModel): SafeHtml {
  const t = model.ticket;
  return html`<div class="ticket-head" data-ticket="${t.ticket}">
<h1>Ticket ${t.ticket}</h1> ${stateBadge(t.state)} ${urgencyBadge(t.urgency)}
${actions(t, model.session)}
${t.blocked !== undefined && html`<p class="blocked" role="status"><b>Not reachable:</b> ${t.blocked}</p>`}
</div>
<div class="grid2">
<section class="panel" aria-labelledby="request-h">
<h2 id="request-h" class="visually-hidden">Request</h2>
<dl class="facts">
<dt>Site</dt><dd><a href="/console/?site=${t.site}&amp;state=all">${t.site}</a></dd>
<dt>Site public address</dt><dd><code>${t.publicAddress ?? '—'}</code></dd>
<dt>Hub</dt><dd>${t.hub ?? '—'}</dd>
<dt>Requester</dt><dd>${t.requester} ${levelBadge(t.level)}</dd>
<dt>Phone</dt><dd>${t.phone === null ? html`<span class="muted">—</span>` : html`<a href="tel:${t.phone.replace(/[^0-9+]/g, '')}">${t.phone}</a>`}</dd>
<dt>Description</dt><dd class="description">${t.description ?? html`<span class="muted">—</span>`}</dd>
<dt>Received</dt><dd>${timeCell(t.createdAt, model.now)}</dd>
<dt>Ready</dt><dd>${timeCell(t.readyAt, model.now)}</dd>
<dt>Started</dt><dd>${timeCell(t.startedAt, model.now)}</dd>
<dt>Ended</dt><dd>${timeCell(t.endedAt, model.now)}${t.endReason !== null && html`<span class="sub">${t.endReason}</span>`}</dd>
</dl>
</section>
<div>
<section class="panel" aria-labelledby="leases-h"><h2 id="leases-h" class="panel-title">Leases</h2>${leasesTable(t)}</section>
${asksSection(t, model.session, model.now)}
<section class="panel" aria-labelledby="history-h"><h2 id="history-h" class="panel-title">History</h2>${history(model.history, model.now)}</section>
</div>
</div>`;
}

export function ticketIntro(): SafeHtml {
  return html`<p class="back"><a href="/console/">← All tickets</a></p>`;
}
