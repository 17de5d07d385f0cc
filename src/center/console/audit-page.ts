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

export function auditIntro(t: ConsoleText, subject: string | null): SafeHtml {
  return html`<div class="page-head"><div><h1>${t.t('nav.audit')}</h1><p class="muted">${t.t('audit.lead')}</p></div>
<form method="get" action="/console/audit" class="filters" role="search"><div><label for="a-subject">${t.t('audit.col.subject')}</label><input id="a-subject" type="search" name="subject" value="${subject ?? ''}" placeholder="ticket:12, site:acme…" size="22"></div><button type="submit">${t.t('queue.filter')}</button>${subject !== null && html`<a href="/console/audit">${t.t('queue.clear')}</a>`}</form></div>`;
}

export function auditRegion(model: AuditModel): SafeHtml {
  const last = model.events.at(-1);
  const { t } = model;
  return html`<div class="panel"><table aria-label="${t.t('audit.label')}">
<thead><tr><th scope="col">#</th><th scope="col">${t.t('audit.col.time')}</th><th scope="col">${t.t('audit.col.actor')}</th><th scope="col">${t.t('audit.col.action')}</th><th scope="col">${t.t('audit.col.subject')}</th><th scope="col">${t.t('faults.col.detail')}</th></tr></thead>
<tbody>${model.events.map((e) => html`<tr>
<td class="muted">${e.id}</td><td>${timeCell(model.t, e.at, model.now)}</td><td>${e.actor}</td><td><code>${e.action}</code></td><td>${subjectCell(e.subject)}</td><td class="mono muted">${detailText(e.detail)}</td>
</tr>`)}</tbody></table>
${model.events.length === 0 && html`<p class="empty">${model.subject === null ? t.t('ticket.no-events') : t.t('audit.none.for', { subject: model.subject })}</p>`}</div>
<nav class="pager" aria-label="${t.t('pager.label')}">
${model.before !== null && html`<a href="${auditHref(null, model.subject)}">${t.t('audit.newest')}</a>`}
${last !== undefined && model.events.length >= AUDIT_PAGE ? html`<a href="${auditHref(last.id, model.subject)}" rel="next">${t.t('audit.older')}</a>` : html`<span class="disabled">${t.t('audit.older')}</span>`}
</nav>`;
}
