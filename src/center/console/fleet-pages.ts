// The fleet pages: faults, sites (enrolled, last seen, open tickets) and hubs (slots used of capacity, health).
import { html, type SafeHtml } from '../../web/html.ts';
import type { FaultView, HubView, IncidentView, SiteView } from '../../protocol/schemas/operator-api.ts';
import { plural, timeCell } from './format.ts';
import { csrfField } from './layout.ts';
import type { Session } from './sessions.ts';
import type { ConsoleText } from './text.ts';

/** One admin button: a plain POST form with the session's CSRF token (it works without the script). */
function button(session: Session, action: string, label: string, danger = false): SafeHtml {
  return html`<form method="post" action="${action}" class="inline">${csrfField(session)}<button type="submit"${danger ? html` class="end"` : ''}>${label}</button></form>`;
}

/** The lifecycle buttons of a site row, for admins only: revoke while in service; delete and approve once revoked. */
function siteActions(s: SiteView, session: Session | null): SafeHtml {
  if (session?.role !== 'admin') return html``;
  const base = `/console/sites/${encodeURIComponent(s.site)}`;
  if (s.revokedAt === null) {
    return html`${button(session, `${base}/revoke`, 'Revoke', true)}${s.lastSeenAt === null ? button(session, `${base}/delete`, 'Delete', true) : ''}`;
  }
  return html`${button(session, `${base}/approve`, 'Approve re-enrollment')}${button(session, `${base}/delete`, 'Delete', true)}`;
}

/** The lifecycle buttons of a hub row, for admins only: drain, or undrain and remove once drained. */
function hubActions(h: HubView, session: Session | null): SafeHtml {
  if (session?.role !== 'admin') return html``;
  const base = `/console/hubs/${encodeURIComponent(h.hub)}`;
  if (h.drainedAt === null) return button(session, `${base}/drain`, 'Drain');
  return html`${button(session, `${base}/undrain`, 'Undrain')}${button(session, `${base}/remove`, 'Remove', true)}`;
}

function heading(title: string, text: string, extra?: SafeHtml): SafeHtml {
  return html`<div class="page-head"><div><h1>${title}</h1><p class="muted">${text}</p></div>${extra}</div>`;
}

export const faultsIntro = (): SafeHtml => heading('Faults', 'Faults the sites reported, newest first, a repeat counted in its open fault. Each opens an admin ticket for the site\'s gateway as the fault policy allows; the others wait as one incident per code.');

/** A storm is one row: "wan-down: 3,412 sites since 14:02", with why its faults hold no ticket. */
export function incidentsRegion(t: ConsoleText, incidents: IncidentView[], now: number): SafeHtml {
  if (incidents.length === 0) return html``;
  return html`<div class="panel"><table aria-label="Incidents">
<thead><tr><th scope="col">Incident</th><th scope="col">Sites</th><th scope="col">Since (UTC)</th><th scope="col">Last report</th><th scope="col">Automatic tickets open</th><th scope="col">Held</th></tr></thead>
<tbody>${incidents.map((i) => html`<tr>
<td><code>${i.code}</code></td>
<td>${i.sites.toLocaleString('en')} sites (${i.reports.toLocaleString('en')} reports)</td>
<td>${timeCell(t, i.since, now)}</td>
<td>${timeCell(t, i.lastSeenAt, now)}</td>
<td>${i.ticketsOpen}</td>
<td>${Object.entries(i.held).map(([reason, n]) => `${reason}: ${n}`).join(', ')}</td>
</tr>`)}</tbody></table></div>`;
}
export const sitesIntro = (): SafeHtml => heading('Sites', 'Every enrolled customer gateway.');
export const hubsIntro = (): SafeHtml => heading('Hubs', 'Center-side WireGuard endpoints and their tunnel slots.');

export function faultsRegion(t: ConsoleText, faults: FaultView[], now: number): SafeHtml {
  if (faults.length === 0) return html`<div class="panel"><p class="empty">No faults reported.</p></div>`;
  return html`<div class="panel"><table aria-label="Faults">
<thead><tr><th scope="col">Reported (UTC)</th><th scope="col">Site</th><th scope="col">Code</th><th scope="col">Detail</th><th scope="col">Ticket</th></tr></thead>
<tbody>${faults.map((f) => html`<tr>
<td>${timeCell(t, f.reportedAt, now)}</td>
<td><a href="/console/?site=${f.site}&amp;state=all">${f.site}</a></td>
<td><code>${f.code}</code>${(f.count ?? 1) > 1 ? html` <span class="muted">×${f.count}</span>` : html``}</td>
<td>${f.detail ?? html`<span class="muted">—</span>`}</td>
<td>${f.ticket === null ? html`<span class="muted">${f.held === undefined || f.held === null ? '—' : `held: ${f.held}`}</span>` : html`<a href="/console/tickets/${f.ticket}">${f.ticket}</a>`}</td>
</tr>`)}</tbody></table></div>`;
}

/** The release an agent last named: its version, the protocol beneath; a dash until it called. */
function releaseCell(agent: { agentVersion: string | null; agentProtocol: number | null }): SafeHtml {
  if (agent.agentProtocol === null) return html`<span class="muted">—</span>`;
  return html`<code>${agent.agentVersion ?? 'unknown'}</code><span class="sub">protocol ${agent.agentProtocol}</span>`;
}

function siteHealth(s: SiteView): SafeHtml {
  if (s.errors.length > 0) return html`<span class="health-bad" title="${s.errors.join('\n')}">${plural(s.errors.length, 'error')}</span>`;
  if (s.observedRevision < s.revision) return html`<span class="muted">converging (${s.observedRevision}/${s.revision})</span>`;
  return html`<span class="health-ok">in sync</span>`;
}

/** Online or not, and whether it streams now (active) or only checks in (idle). */
function siteLive(s: SiteView): SafeHtml {
  if (!s.online) return html`<span class="health-bad">offline</span>`;
  return s.stream ? html`<span class="health-ok">online, streaming</span>` : html`<span class="muted">online, idle (checks in)</span>`;
}

export function sitesRegion(t: ConsoleText, sites: SiteView[], now: number, session: Session | null = null): SafeHtml {
  if (sites.length === 0) return html`<div class="panel"><p class="empty">No site has enrolled yet.</p></div>`;
  return html`<div class="panel"><table aria-label="Sites">
<thead><tr><th scope="col">Site</th><th scope="col">Public address</th><th scope="col">LAN</th><th scope="col">Enrolled</th><th scope="col">Last seen</th><th scope="col">Open tickets</th><th scope="col">Hub</th><th scope="col">Tunnel handshake</th><th scope="col">State</th><th scope="col">Faults</th><th scope="col">Version</th>${session?.role === 'admin' && html`<th scope="col">Lifecycle</th>`}</tr></thead>
<tbody>${sites.map((s) => html`<tr>
<td><b>${s.site}</b></td>
<td><code>${s.publicAddress ?? '—'}</code></td>
<td><code>${s.lan.join(', ')}</code></td>
<td>${timeCell(t, s.enrolledAt, now)}</td>
<td>${timeCell(t, s.lastSeenAt, now)} ${siteLive(s)}</td>
<td>${s.openTickets > 0 ? html`<a href="/console/?site=${s.site}">${s.openTickets}</a>` : html`<span class="muted">0</span>`}</td>
<td>${s.hub ?? html`<span class="muted">—</span>`}</td>
<td>${timeCell(t, s.handshakeAt, now)}</td>
<td>${s.revokedAt === null ? siteHealth(s) : html`<span class="health-bad" title="revoked ${new Date(s.revokedAt).toISOString()}">revoked</span>`}</td>
<td>${s.faults.length === 0 ? html`<span class="muted">0</span>` : html`<a href="/console/faults" title="${s.faults.map((f) => f.code).join(', ')}">${s.faults.length}</a>`}</td>
<td>${releaseCell(s)}</td>
${session?.role === 'admin' && html`<td>${siteActions(s, session)}</td>`}
</tr>`)}</tbody></table></div>`;
}

function slotBar(used: number, capacity: number): SafeHtml {
  const percent = capacity === 0 ? 100 : Math.min(100, Math.round((used / capacity) * 100));
  // The width is an SVG attribute: the CSP forbids inline style attributes.
  return html`<svg class="meter" width="120" height="8" role="img" aria-label="${used} of ${capacity} slots used"><rect width="120" height="8" rx="4" class="meter-bg"/><rect width="${(percent * 1.2).toFixed(1)}" height="8" rx="4" class="${percent >= 100 ? 'meter-full' : 'meter-fill'}"/></svg>`;
}

export function hubsRegion(t: ConsoleText, hubs: HubView[], now: number, session: Session | null = null): SafeHtml {
  if (hubs.length === 0) return html`<div class="panel"><p class="empty">No hub has registered yet.</p></div>`;
  return html`<div class="panel"><table aria-label="Hubs">
<thead><tr><th scope="col">Hub</th><th scope="col">Endpoint</th><th scope="col">Block</th><th scope="col">Slots used / capacity</th><th scope="col">Leases</th><th scope="col">Health</th><th scope="col">Last seen</th><th scope="col">Revision</th><th scope="col">Version</th>${session?.role === 'admin' && html`<th scope="col">Lifecycle</th>`}</tr></thead>
<tbody>${hubs.map((h) => html`<tr>
<td><b>${h.hub}</b><span class="sub mono">${h.address}</span></td>
<td><code>${h.endpoint}</code></td>
<td><code>${h.block}</code></td>
<td>${slotBar(h.slotsUsed, h.capacity)} <span class="sub">${h.slotsUsed} / ${h.capacity}</span></td>
<td>${h.leases}</td>
<td>${h.healthy ? html`<span class="health-ok">healthy</span>` : html`<span class="health-bad">not heard from</span>`}${h.drainedAt !== null && html`<span class="sub">drained: no new slots</span>`}${h.errors.length > 0 && html`<span class="sub" title="${h.errors.join('\n')}">${plural(h.errors.length, 'error')}</span>`}</td>
<td>${timeCell(t, h.lastSeenAt, now)}</td>
<td><span class="${h.observedRevision < h.revision ? 'muted' : ''}">${h.observedRevision} / ${h.revision}</span></td>
<td>${releaseCell(h)}</td>
${session?.role === 'admin' && html`<td>${hubActions(h, session)}</td>`}
</tr>`)}</tbody></table></div>`;
}
