// One ticket's page: every field of the request, its leases with how to reach them, Start and End, and its history.
import { html, type SafeHtml } from '../../web/html.ts';
import { isOpenState } from '../../protocol/schemas/common.ts';
import type { AuditEvent, TicketView } from '../../protocol/schemas/operator-api.ts';
import type { SignedJobRecord } from '../../protocol/schemas/job-record.ts';
import { levelBadge, stateBadge, timeCell, urgencyBadge } from './format.ts';
import { csrfField } from './layout.ts';
import type { Session } from './sessions.ts';
import { asksSection, leasesTable } from './ticket-asks.ts';
import { recordSection } from './ticket-record.ts';
import type { ConsoleText } from './text.ts';
import { timeSection } from './ticket-time.ts';

export interface TicketModel {
  t: ConsoleText;
  ticket: TicketView;
  history: AuditEvent[];
  now: number;
  session: Session;
  /** The job record of an ended ticket (null while open). */
  record: SignedJobRecord | null;
}

function actions(w: ConsoleText, t: TicketView, session: Session): SafeHtml {
  if (!isOpenState(t.state)) return html``;
  const back = html`${csrfField(session)}<input type="hidden" name="return" value="/console/tickets/${t.ticket}">`;
  return html`<div class="actions">
${t.state !== 'in_progress' && html`<form method="post" action="/console/tickets/${t.ticket}/start" class="inline">${back}<button type="submit" class="start"${t.state === 'waiting' && html` disabled title="${w.t('action.not-up')}"`}>${w.t('action.start-work')}</button></form>`}
<form method="post" action="/console/tickets/${t.ticket}/end" class="inline">${back}<label class="visually-hidden" for="end-reason">${w.t('action.reason')}</label><input id="end-reason" type="text" name="reason" maxlength="500" placeholder="${w.t('action.reason.placeholder')}" size="22"> <button type="submit" class="end">${w.t('action.end-ticket')}</button></form>
</div>`;
}

function history(w: ConsoleText, events: AuditEvent[], now: number): SafeHtml {
  if (events.length === 0) return html`<p class="empty">${w.t('ticket.no-events')}</p>`;
  return html`<ol class="timeline">${events.map((e) => html`<li>${timeCell(w, e.at, now)} <b>${e.action.replace(/^ticket\./, '')}</b> <span class="muted">${w.t('ticket.by', { actor: e.actor })}</span>${typeof e.detail['reason'] === 'string' && html` — ${e.detail['reason']}`}</li>`)}</ol>`;
}

/** The live region of the ticket page. */
export function ticketRegion(model: TicketModel): SafeHtml {
  const t = model.ticket;
  const w = model.t;
  return html`<div class="ticket-head" data-ticket="${t.ticket}">
<h1>${w.t('ticket.title', { ticket: t.ticket })}</h1> ${stateBadge(w, t.state)} ${urgencyBadge(w, t.urgency)}
${actions(w, t, model.session)}
${t.blocked !== undefined && html`<p class="blocked" role="status"><b>${w.t('ticket.not-reachable')}</b> ${t.blocked}</p>`}
</div>
<div class="grid2">
<section class="panel" aria-labelledby="request-h">
<h2 id="request-h" class="visually-hidden">${w.t('ticket.request')}</h2>
<dl class="facts">
<dt>${w.t('ticket.site')}</dt><dd><a href="/console/?site=${t.site}&amp;state=all">${t.site}</a></dd>
<dt>${w.t('ticket.public-address')}</dt><dd><code>${t.publicAddress ?? '—'}</code></dd>
<dt>${w.t('ticket.hub')}</dt><dd>${t.hub ?? '—'}</dd>
<dt>${w.t('ticket.requester')}</dt><dd>${t.requester} ${levelBadge(w, t.level)}</dd>
<dt>${w.t('ticket.phone')}</dt><dd>${t.phone === null ? html`<span class="muted">—</span>` : html`<a href="tel:${t.phone.replace(/[^0-9+]/g, '')}">${t.phone}</a>`}</dd>
<dt>${w.t('ticket.description')}</dt><dd class="description">${t.description ?? html`<span class="muted">—</span>`}</dd>
<dt>${w.t('ticket.received')}</dt><dd>${timeCell(w, t.createdAt, model.now)}</dd>
<dt>${w.t('ticket.ready')}</dt><dd>${timeCell(w, t.readyAt, model.now)}</dd>
<dt>${w.t('ticket.started')}</dt><dd>${timeCell(w, t.startedAt, model.now)}</dd>
<dt>${w.t('ticket.ended')}</dt><dd>${timeCell(w, t.endedAt, model.now)}${t.endReason !== null && html`<span class="sub">${t.endReason}</span>`}</dd>
</dl>
</section>
<div>
<section class="panel" aria-labelledby="leases-h"><h2 id="leases-h" class="panel-title">${w.t('ticket.leases')}</h2>${leasesTable(w, t)}</section>
${timeSection(w, t, model.session, model.now)}
${asksSection(w, t, model.session, model.now)}
${recordSection(w, model.record)}
<section class="panel" aria-labelledby="history-h"><h2 id="history-h" class="panel-title">${w.t('ticket.history')}</h2>${history(w, model.history, model.now)}</section>
</div>
</div>`;
}

export function ticketIntro(t: ConsoleText): SafeHtml {
  return html`<p class="back"><a href="/console/">${t.t('ticket.back')}</a></p>`;
}
