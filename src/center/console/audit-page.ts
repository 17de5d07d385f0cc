// The audit log page: every change with actor and time, newest first, paged by event id, filterable by subject.
import { html, type SafeHtml } from '../../web/html.ts';
import type { AuditEvent } from '../../protocol/schemas/operator-api.ts';
import { timeCell } from './format.ts';
import type { ConsoleText } from './text.ts';

export const AUDIT_PAGE = 100;

export interface AuditModel { t: ConsoleText; events: AuditEvent[]; before: number | null; subject: string | null; now: number }

export function auditHref(before: number | null, subject: string | null, fragment = false): string {
  const params = new URLSearchParams();
  if (before !== null) params.set('before', String(before));
  if (subject !== null) params.set('subject', subject);
  const search = params.toString();
  return `${fragment ? '/console/fragments/audit' : '/console/audit'}${search === '' ? '' : `?${search}`}`;
}

/** `ticket:12` → its page; other subjects as text. */
function subjectCell(subject: string): SafeHtml {
  const ticket = /^ticket:(\d+)$/.exec(subject);
  if (ticket !== null) return html`<a href="/console/tickets/${ticket[1]}">${subject}</a>`;
  return html`<a href="${auditHref(null, subject)}">${subject}</a>`;
}

function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('  ');
}

export function auditIntro(subject: string | null): SafeHtml {
  return html`<div class="page-head"><div><h1>Audit log</h1><p class="muted">Every change of a ticket, lease, slot, site, hub or operator, with who made it.</p></div>
<form method="get" action="/console/audit" class="filters" role="search"><div><label for="a-subject">Subject</label><input id="a-subject" type="search" name="subject" value="${subject ?? ''}" placeholder="ticket:12, site:acme…" size="22"></div><button type="submit">Filter</button>${subject !== null && html`<a href="/console/audit">Clear</a>`}</form></div>`;
}

export function auditRegion(model: AuditModel): SafeHtml {
  const last = model.events.at(-1);
  return html`<div class="panel"><table aria-label="Audit events">
<thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Subject</th><th scope="col">Detail</th></tr></thead>
<tbody>${model.events.map((e) => html`<tr>
<td class="muted">${e.id}</td><td>${timeCell(model.t, e.at, model.now)}</td><td>${e.actor}</td><td><code>${e.action}</code></td><td>${subjectCell(e.subject)}</td><td class="mono muted">${detailText(e.detail)}</td>
</tr>`)}</tbody></table>
${model.events.length === 0 && html`<p class="empty">No events${model.subject === null ? '' : ` for ${model.subject}`}.</p>`}</div>
<nav class="pager" aria-label="Pages">
${model.before !== null && html`<a href="${auditHref(null, model.subject)}">← Newest</a>`}
${last !== undefined && model.events.length >= AUDIT_PAGE ? html`<a href="${auditHref(last.id, model.subject)}" rel="next">Older →</a>` : html`<span class="disabled">Older →</span>`}
</nav>`;
}
