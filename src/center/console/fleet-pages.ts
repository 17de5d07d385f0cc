// The fleet pages: faults, sites (enrolled, last seen, open tickets) and hubs (slots used of capacity, health).
import { html, type SafeHtml } from '../../web/html.ts';
import type { FaultView, HubView, IncidentView, SiteView } from '../../protocol/schemas/operator-api.ts';
import { timeCell } from './format.ts';
import { csrfField } from './layout.ts';
import type { Session } from './sessions.ts';
import type { ConsoleKey, ConsoleText } from './text.ts';

/** One admin button: a plain POST form with the session's CSRF token (it works without the script). */
function button(session: Session, action: string, label: string, danger = false): SafeHtml {
  return html`<form method="post" action="${action}" class="inline">${csrfField(session)}<button type="submit"${danger ? html` class="end"` : ''}>${label}</button></form>`;
}

/** The lifecycle buttons of a site row, for admins only: revoke while in service; delete and approve once revoked. */
function siteActions(t: ConsoleText, s: SiteView, session: Session | null): SafeHtml {
  if (session?.role !== 'admin') return html``;
  const base = `/console/sites/${encodeURIComponent(s.site)}`;
  if (s.revokedAt === null) {
    return html`${button(session, `${base}/revoke`, t.t('fleet.revoke'), true)}${s.lastSeenAt === null ? button(session, `${base}/delete`, t.t('fleet.delete'), true) : ''}`;
  }
  return html`${button(session, `${base}/approve`, t.t('fleet.approve'))}${button(session, `${base}/delete`, t.t('fleet.delete'), true)}`;
}

/** The lifecycle buttons of a hub row, for admins only: drain, or undrain and remove once drained. */
function hubActions(t: ConsoleText, h: HubView, session: Session | null): SafeHtml {
  if (session?.role !== 'admin') return html``;
  const base = `/console/hubs/${encodeURIComponent(h.hub)}`;
  if (h.drainedAt === null) return button(session, `${base}/drain`, t.t('fleet.drain'));
  return html`${button(session, `${base}/undrain`, t.t('fleet.undrain'))}${button(session, `${base}/remove`, t.t('fleet.remove'), true)}`;
}

function heading(title: string, text: string, extra?: SafeHtml): SafeHtml {
  return html`<div class="page-head"><div><h1>${title}</h1><p class="muted">${text}</p></div>${extra}</div>`;
}

export const faultsIntro = (t: ConsoleText): SafeHtml => heading(t.t('nav.faults'), t.t('faults.lead'));

/** `1 error`, `3 errors` in English; one form in languages without plurals. */
function count(t: ConsoleText, n: number, one: ConsoleKey, many: ConsoleKey): string {
  return t.t(n === 1 ? one : many, { n: t.number(n) });
}

/** A storm is one row: "wan-down: 3,412 sites since 14:02", with why its faults hold no ticket. */
export function incidentsRegion(t: ConsoleText, incidents: IncidentView[], now: number): SafeHtml {
  if (incidents.length === 0) return html``;
  return html`<div class="panel"><table aria-label="${t.t('incidents.label')}">
<thead><tr><th scope="col">${t.t('incidents.col.incident')}</th><th scope="col">${t.t('nav.sites')}</th><th scope="col">${t.t('incidents.col.since')}</th><th scope="col">${t.t('incidents.col.last')}</th><th scope="col">${t.t('incidents.col.tickets')}</th><th scope="col">${t.t('incidents.col.held')}</th></tr></thead>
<tbody>${incidents.map((i) => html`<tr>
<td><code>${i.code}</code></td>
<td>${count(t, i.sites, 'incidents.site', 'incidents.sites')} (${count(t, i.reports, 'incidents.report', 'incidents.reports')})</td>
<td>${timeCell(t, i.since, now)}</td>
<td>${timeCell(t, i.lastSeenAt, now)}</td>
<td>${i.ticketsOpen}</td>
<td>${Object.entries(i.held).map(([reason, n]) => `${reason}: ${n}`).join(', ')}</td>
</tr>`)}</tbody></table></div>`;
}
export const sitesIntro = (t: ConsoleText): SafeHtml => heading(t.t('nav.sites'), t.t('sites.lead'));
export const hubsIntro = (t: ConsoleText): SafeHtml => heading(t.t('nav.hubs'), t.t('hubs.lead'));

export function faultsRegion(t: ConsoleText, faults: FaultView[], now: number): SafeHtml {
  if (faults.length === 0) return html`<div class="panel"><p class="empty">${t.t('faults.empty')}</p></div>`;
  return html`<div class="panel"><table aria-label="${t.t('nav.faults')}">
<thead><tr><th scope="col">${t.t('faults.col.reported')}</th><th scope="col">${t.t('queue.site')}</th><th scope="col">${t.t('faults.col.code')}</th><th scope="col">${t.t('faults.col.detail')}</th><th scope="col">${t.t('faults.col.ticket')}</th></tr></thead>
<tbody>${faults.map((f) => html`<tr>
<td>${timeCell(t, f.reportedAt, now)}</td>
<td><a href="/console/?site=${f.site}&amp;state=all">${f.site}</a></td>
<td><code>${f.code}</code>${(f.count ?? 1) > 1 ? html` <span class="muted">×${f.count}</span>` : html``}</td>
<td>${f.detail ?? html`<span class="muted">—</span>`}</td>
<td>${f.ticket === null ? html`<span class="muted">${f.held === undefined || f.held === null ? '—' : t.t('faults.held', { reason: f.held })}</span>` : html`<a href="/console/tickets/${f.ticket}">${f.ticket}</a>`}</td>
</tr>`)}</tbody></table></div>`;
}

/** The release an agent last named: its version, the protocol beneath; a dash until it called. */
function releaseCell(t: ConsoleText, agent: { agentVersion: string | null; agentProtocol: number | null }): SafeHtml {
  if (agent.agentProtocol === null) return html`<span class="muted">—</span>`;
  return html`<code>${agent.agentVersion ?? t.t('fleet.unknown')}</code><span class="sub">${t.t('fleet.protocol', { n: agent.agentProtocol })}</span>`;
}

function siteHealth(t: ConsoleText, s: SiteView): SafeHtml {
  if (s.errors.length > 0) return html`<span class="health-bad" title="${s.errors.join('\n')}">${count(t, s.errors.length, 'fleet.error', 'fleet.errors')}</span>`;
  if (s.observedRevision < s.revision) return html`<span class="muted">${t.t('sites.converging', { seen: s.observedRevision, revision: s.revision })}</span>`;
  return html`<span class="health-ok">${t.t('sites.in-sync')}</span>`;
}

/** Online or not, and whether it streams now (active) or only checks in (idle). */
function siteLive(t: ConsoleText, s: SiteView): SafeHtml {
  if (!s.online) return html`<span class="health-bad">${t.t('sites.offline')}</span>`;
  return s.stream ? html`<span class="health-ok">${t.t('sites.streaming')}</span>` : html`<span class="muted">${t.t('sites.idle')}</span>`;
}

export function sitesRegion(t: ConsoleText, sites: SiteView[], now: number, session: Session | null = null): SafeHtml {
  if (sites.length === 0) return html`<div class="panel"><p class="empty">${t.t('sites.empty')}</p></div>`;
  return html`<div class="panel"><table aria-label="${t.t('nav.sites')}">
<thead><tr><th scope="col">${t.t('queue.site')}</th><th scope="col">${t.t('sites.col.public')}</th><th scope="col">LAN</th><th scope="col">${t.t('sites.col.enrolled')}</th><th scope="col">${t.t('fleet.col.last-seen')}</th><th scope="col">${t.t('sites.col.open')}</th><th scope="col">${t.t('ticket.hub')}</th><th scope="col">${t.t('sites.col.handshake')}</th><th scope="col">${t.t('queue.state')}</th><th scope="col">${t.t('nav.faults')}</th><th scope="col">${t.t('fleet.col.version')}</th>${session?.role === 'admin' && html`<th scope="col">${t.t('fleet.col.lifecycle')}</th>`}</tr></thead>
<tbody>${sites.map((s) => html`<tr>
<td><b>${s.site}</b></td>
<td><code>${s.publicAddress ?? '—'}</code></td>
<td><code>${s.lan.join(', ')}</code></td>
<td>${timeCell(t, s.enrolledAt, now)}</td>
<td>${timeCell(t, s.lastSeenAt, now)} ${siteLive(t, s)}</td>
<td>${s.openTickets > 0 ? html`<a href="/console/?site=${s.site}">${s.openTickets}</a>` : html`<span class="muted">0</span>`}</td>
<td>${s.hub ?? html`<span class="muted">—</span>`}</td>
<td>${timeCell(t, s.handshakeAt, now)}</td>
<td>${s.revokedAt === null ? siteHealth(t, s) : html`<span class="health-bad" title="${t.t('sites.revoked.at', { time: new Date(s.revokedAt).toISOString() })}">${t.t('sites.revoked')}</span>`}</td>
<td>${s.faults.length === 0 ? html`<span class="muted">0</span>` : html`<a href="/console/faults" title="${s.faults.map((f) => f.code).join(', ')}">${s.faults.length}</a>`}</td>
<td>${releaseCell(t, s)}</td>
${session?.role === 'admin' && html`<td>${siteActions(t, s, session)}</td>`}
</tr>`)}</tbody></table></div>`;
}

function slotBar(t: ConsoleText, used: number, capacity: number): SafeHtml {
  const percent = capacity === 0 ? 100 : Math.min(100, Math.round((used / capacity) * 100));
  // The width is an SVG attribute: the CSP forbids inline style attributes.
  return html`<svg class="meter" width="120" height="8" role="img" aria-label="${t.t('hubs.slots', { used, capacity })}"><rect width="120" height="8" rx="4" class="meter-bg"/><rect width="${(percent * 1.2).toFixed(1)}" height="8" rx="4" class="${percent >= 100 ? 'meter-full' : 'meter-fill'}"/></svg>`;
}

export function hubsRegion(t: ConsoleText, hubs: HubView[], now: number, session: Session | null = null): SafeHtml {
  if (hubs.length === 0) return html`<div class="panel"><p class="empty">${t.t('hubs.empty')}</p></div>`;
  return html`<div class="panel"><table aria-label="${t.t('nav.hubs')}">
<thead><tr><th scope="col">${t.t('ticket.hub')}</th><th scope="col">${t.t('hubs.col.endpoint')}</th><th scope="col">${t.t('hubs.col.block')}</th><th scope="col">${t.t('hubs.col.slots')}</th><th scope="col">${t.t('ticket.leases')}</th><th scope="col">${t.t('hubs.col.health')}</th><th scope="col">${t.t('fleet.col.last-seen')}</th><th scope="col">${t.t('hubs.col.revision')}</th><th scope="col">${t.t('fleet.col.version')}</th>${session?.role === 'admin' && html`<th scope="col">${t.t('fleet.col.lifecycle')}</th>`}</tr></thead>
<tbody>${hubs.map((h) => html`<tr>
<td><b>${h.hub}</b><span class="sub mono">${h.address}</span></td>
<td><code>${h.endpoint}</code></td>
<td><code>${h.block}</code></td>
<td>${slotBar(t, h.slotsUsed, h.capacity)} <span class="sub">${h.slotsUsed} / ${h.capacity}</span></td>
<td>${h.leases}</td>
<td>${h.healthy ? html`<span class="health-ok">${t.t('hubs.healthy')}</span>` : html`<span class="health-bad">${t.t('hubs.silent')}</span>`}${h.drainedAt !== null && html`<span class="sub">${t.t('hubs.drained')}</span>`}${h.errors.length > 0 && html`<span class="sub" title="${h.errors.join('\n')}">${count(t, h.errors.length, 'fleet.error', 'fleet.errors')}</span>`}</td>
<td>${timeCell(t, h.lastSeenAt, now)}</td>
<td><span class="${h.observedRevision < h.revision ? 'muted' : ''}">${h.observedRevision} / ${h.revision}</span></td>
<td>${releaseCell(t, h)}</td>
${session?.role === 'admin' && html`<td>${hubActions(t, h, session)}</td>`}
</tr>`)}</tbody></table></div>`;
}
