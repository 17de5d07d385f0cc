// Small formatting pieces every console page shares: times and ages, state and urgency badges, lease links, pagers.
import { html, type SafeHtml } from '../../web/html.ts';
import type { Level, TicketState, Urgency } from '../../protocol/schemas/common.ts';
import type { ServiceSpec } from '../../protocol/schemas/services.ts';
import { admits } from '../../protocol/services.ts';

export const STATE_LABEL: Record<TicketState, string> = {
  waiting: 'Waiting for tunnel', ready: 'Ready', in_progress: 'In progress', ended: 'Ended', cancelled: 'Cancelled', expired: 'Expired', failed: 'Failed',
};

const URGENCY_LABEL: Record<Urgency, string> = { high: 'High', normal: 'Normal', low: 'Low' };

/** `2026-11-25 08:39:45 UTC`. */
export function fullTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `08:39:45` when on the same UTC day as `now`, else `11-24 08:39`. */
export function shortTime(ms: number, now: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? iso.slice(11, 19) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** `just now`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function ageText(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** A time cell: the clock time, and the age the page's script keeps current. */
export function timeCell(ms: number | null, now: number): SafeHtml {
  if (ms === null) return html`<span class="muted">—</span>`;
  return html`<time datetime="${new Date(ms).toISOString()}" title="${fullTime(ms)}">${shortTime(ms, now)}</time> <span class="age" data-at="${ms}">${ageText(ms, now)}</span>`;
}

export function stateBadge(state: TicketState): SafeHtml {
  return html`<span class="badge state-${state}">${STATE_LABEL[state]}</span>`;
}

export function urgencyBadge(urgency: Urgency): SafeHtml {
  return html`<span class="urgency urgency-${urgency}">${URGENCY_LABEL[urgency]}</span>`;
}

export function levelBadge(level: Level): SafeHtml {
  return html`<span class="badge level-${level}">${level}</span>`;
}

/** The host part of a URL for an address (IPv6 in brackets). */
export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The URLs a lease admits: ssh only when it admits tcp/22, http when tcp/80, https when a named set admits tcp/443. */
export function reachUrls(address: string, services: ServiceSpec = 'all'): { label: string; url: string }[] {
  const host = urlHost(address);
  return [
    ...(admits(services, 'tcp', 22) ? [{ label: 'ssh', url: `ssh://${host}` }] : []),
    ...(admits(services, 'tcp', 80) ? [{ label: 'http', url: `http://${host}/` }] : []),
    ...(services !== 'all' && admits(services, 'tcp', 443) ? [{ label: 'https', url: `https://${host}/` }] : []),
  ];
}

/** How to reach a lease: links for the services it admits (every lease before services admitted all: ssh and http). */
export function leaseLinks(address: string, services: ServiceSpec = 'all'): SafeHtml {
  return html`${reachUrls(address, services).map(({ label, url }) => label === 'ssh'
    ? html`<a class="reach" href="${url}" title="${`Open ${url}`}">${label}</a>`
    : html`<a class="reach" href="${url}" target="_blank" rel="noopener noreferrer" title="${`Open ${url}`}">${label}</a>`)}`;
}

/** One lease: device → address, with its links. */
export function leaseLine(device: string, address: string, services: ServiceSpec = 'all'): SafeHtml {
  return html`<li><span class="device">${device}</span> <span class="arrow" aria-hidden="true">→</span> <code>${address}</code> ${leaseLinks(address, services)}</li>`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Previous / next links and where we are. `href(page)` builds each link. */
export function pager(page: number, pages: number, shown: string, href: (page: number) => string): SafeHtml {
  return html`<nav class="pager" aria-label="Pages">
<span class="muted">${shown}</span>
${page > 1 ? html`<a href="${href(page - 1)}" rel="prev">← Previous</a>` : html`<span class="disabled">← Previous</span>`}
<span>Page ${page} of ${Math.max(1, pages)}</span>
${page < pages ? html`<a href="${href(page + 1)}" rel="next">Next →</a>` : html`<span class="disabled">Next →</span>`}
</nav>`;
}
