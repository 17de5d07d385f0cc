// The help page's HTML: the request form (errors beside their fields), a ticket's live view, and plain messages.
import { html, type SafeHtml } from '../../web/html.ts';
import type { TicketState } from '../../protocol/schemas/common.ts';
import type { FieldErrors, HelpField, HelpValues } from './form.ts';
import type { SeenConnection } from './connections.ts';
import { EVERYTHING, servicesChooser } from './services-form.ts';

export interface FormModel {
  site: string;
  /** `dhcp`: the name comes from the gateway's DHCP server (the client's hostname). */
  devices: { device: string; address: string; dhcp?: true }[];
  values: HelpValues;
  errors: FieldErrors;
  /** A problem that is no one field's: the center unreachable, hubs full, pool exhausted. */
  banner: string | null;
  csrf: string;
  /** This browser's open tickets (all of them for an administrator). */
  open: { ticket: number; state: TicketState }[];
  admin: AdminState;
}

/** `none`: the gateway has no admin password, so no admin level here; `offered`: a password proves it; `signed-in`: proven. */
export type AdminState = 'none' | 'offered' | 'signed-in';

export const STATE_WORDS: Record<TicketState, { label: string; text: string }> = {
  waiting: { label: 'Waiting', text: 'Your request has reached the maintenance center. It is opening a secure tunnel to this gateway.' },
  ready: { label: 'Ready', text: 'The tunnel is up. An operator will start work soon; the devices below can be reached by the center now.' },
  in_progress: { label: 'In progress', text: 'An operator is working on your devices now.' },
  ended: { label: 'Ended', text: 'The work is finished. The center can no longer reach the devices of this request.' },
  cancelled: { label: 'Cancelled', text: 'You cancelled this request. The center can no longer reach its devices.' },
  expired: { label: 'Expired', text: 'This request ran past its time limit and was closed. The center can no longer reach its devices.' },
  failed: { label: 'Failed', text: 'The tunnel to the center could not be opened, so the request was closed. You can send it again.' },
};

export function helpDocument(title: string, body: SafeHtml, live: string | null = null): SafeHtml {
  return html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="stylesheet" href="/help.css"><script src="/help.js" defer></script></head>
<body><header class="bar"><a href="/" class="brand"><span class="logo" aria-hidden="true"></span>Remote maintenance</a></header>
<main${live !== null && html` data-live="${live}"`}>${body}</main></body></html>`;
}

function fieldError(errors: FieldErrors, field: HelpField): SafeHtml {
  const text = errors[field];
  return text === undefined ? html`` : html`<p class="error" id="err-${field}" role="alert">${text}</p>`;
}

function invalid(errors: FieldErrors, field: HelpField): SafeHtml {
  return errors[field] === undefined ? html`` : html` aria-invalid="true" aria-describedby="err-${field}"`;
}

function radios(name: HelpField, current: string, choices: [string, string, string?][], errors: FieldErrors): SafeHtml {
  return html`${choices.map(([value, label, hint]) => html`<label class="choice"><input type="radio" name="${name}" value="${value}"${value === current && html` checked`}${invalid(errors, name)}> ${label}${hint !== undefined && html` <span class="hint">${hint}</span>`}</label>`)}`;
}

export function formPage(m: FormModel): SafeHtml {
  const { values: v, errors: e } = m;
  return helpDocument('Ask for remote maintenance', html`
<h1>Ask for remote maintenance</h1>
<p class="lead">The maintenance center will be able to reach <b>only the devices you tick</b>, and only until the work is done. You can follow it here and cancel it at any time.</p>
${m.open.length > 0 && html`<div class="open-list"><b>Open requests:</b> ${m.open.map((t) => html`<a href="/tickets/${t.ticket}">#${t.ticket} <span class="state state-${t.state}">${STATE_WORDS[t.state].label}</span></a>`)}</div>`}
${m.banner !== null && html`<div class="banner" role="alert">${m.banner}</div>`}
<form method="post" action="/request" class="card" novalidate>
<input type="hidden" name="_csrf" value="${m.csrf}">
<div class="field"><label for="requester">Your name</label>
<input id="requester" name="requester" type="text" value="${v.requester}" maxlength="100" autocomplete="name"${invalid(e, 'requester')}>${fieldError(e, 'requester')}</div>
${levelField(m)}
<fieldset class="field"><legend>Devices the center may reach</legend>
<div class="devices">${m.devices.filter((d) => m.admin !== 'none' || d.device !== 'gateway').map((d) => html`<div class="device-block"><label class="device"><input type="checkbox" name="devices" value="${d.device}"${v.devices.includes(d.device) && html` checked`}${invalid(e, 'devices')}><span class="name">${d.device}</span><span class="addr">${d.device === 'gateway' ? 'this gateway' : d.address}${d.dhcp === true && ' · from DHCP'}</span></label>
${servicesChooser(d.device, v.services[d.device] ?? EVERYTHING, e.servicesDevice === d.device)}</div>`)}</div>
${fieldError(e, 'devices')}${fieldError(e, 'services')}</fieldset>
<fieldset class="field"><legend>Urgency</legend>${radios('urgency', v.urgency, [['low', 'Low'], ['normal', 'Normal'], ['high', 'High']], e)}${fieldError(e, 'urgency')}</fieldset>
<div class="field"><label for="phone">Phone <span class="hint">(optional: so the operator can call you)</span></label>
<input id="phone" name="phone" type="tel" value="${v.phone}" maxlength="40" autocomplete="tel"${invalid(e, 'phone')}>${fieldError(e, 'phone')}</div>
<div class="field"><label for="description">What is wrong? <span class="hint">(optional)</span></label>
<textarea id="description" name="description" rows="4" maxlength="2000"${invalid(e, 'description')}>${v.description}</textarea>${fieldError(e, 'description')}</div>
<button type="submit" class="primary">Send request</button>
</form>
${adminFoot(m.admin, m.csrf)}
<p class="foot">Site ${m.site}</p>`);
}

/** The level: User only without an admin password; Administrator needs the password (once per sign-in). */
function levelField(m: FormModel): SafeHtml {
  const { values: v, errors: e } = m;
  if (m.admin === 'none') return html`<input type="hidden" name="level" value="user">${fieldError(e, 'level')}`;
  const proof = m.admin === 'signed-in'
    ? html`<p class="hint">You are signed in as this gateway's administrator.</p>`
    : html`<div class="field-sub"><label for="admin-password">Administrator password <span class="hint">(only for level Administrator)</span></label>
<input id="admin-password" name="admin_password" type="password" maxlength="1024" autocomplete="current-password"${invalid(e, 'password')}>${fieldError(e, 'password')}</div>`;
  return html`<fieldset class="field"><legend>Your level</legend>${radios('level', v.level, [['user', 'User'], ['admin', 'Administrator', '(needed to open the gateway itself)']], e)}${fieldError(e, 'level')}
${proof}</fieldset>`;
}

function adminFoot(admin: AdminState, csrf: string): SafeHtml {
  if (admin === 'none') return html``;
  if (admin === 'offered') return html`<p class="foot"><a href="/admin">Administrator sign-in</a> (to see every request of this gateway)</p>`;
  return html`<form method="post" action="/admin/logout" class="foot"><input type="hidden" name="_csrf" value="${csrf}">Signed in as administrator: you see every request of this gateway. <button type="submit">Sign out</button></form>`;
}

export interface AdminModel { csrf: string; error: string | null }

/** The administrator's sign-in: the gateway owner's password, for every request of this gateway. */
export function adminPage(m: AdminModel): SafeHtml {
  return helpDocument('Administrator sign-in', html`<h1>Administrator sign-in</h1>
<p class="lead">The gateway's administrator sees and cancels every request of this gateway, and may open the gateway itself.</p>
<form method="post" action="/admin" class="card">
<input type="hidden" name="_csrf" value="${m.csrf}">
<div class="field"><label for="admin-password">Administrator password</label>
<input id="admin-password" name="password" type="password" maxlength="1024" autocomplete="current-password" required autofocus${m.error === null ? '' : html` aria-invalid="true" aria-describedby="err-password"`}>
${m.error !== null && html`<p class="error" id="err-password" role="alert">${m.error}</p>`}</div>
<button type="submit" class="primary">Sign in</button>
</form>
<p class="foot"><a href="/">Back to the form</a></p>`);
}

export interface TicketModel {
  ticket: number;
  state: TicketState;
  /** This ticket's devices and their pool addresses. */
  leases: { device: string; address: string }[];
  createdAt: number;
  /** Who started work (`operator:NAME`) and when, as the center reports it; null before work starts. */
  startedBy: string | null;
  startedAt: number | null;
  /** Everything of this LAN the center can reach right now (all open tickets). */
  openNow: { device: string; address: string; lanAddress: string | null; blocked?: string }[];
  /** Why a waiting request's devices cannot be reached yet (the site's path check), one line each. */
  blocked?: string[];
  connections: SeenConnection[];
  /** The operators' asks with Accept and Refuse (consent.ts); empty when there are none. */
  consent?: SafeHtml;
  /** Set when the state could not be checked with the center. */
  stale: string | null;
  csrf: string;
}

const STEPS: TicketState[] = ['waiting', 'ready', 'in_progress', 'ended'];

function stepper(state: TicketState): SafeHtml {
  const closedOther = state === 'cancelled' || state === 'expired' || state === 'failed';
  const reached = closedOther ? -1 : STEPS.indexOf(state);
  return html`<ol class="steps" aria-label="Progress">${STEPS.map((s, i) => {
    const last = i === STEPS.length - 1;
    const label = last && closedOther ? STATE_WORDS[state].label : STATE_WORDS[s].label;
    const cls = closedOther ? (last ? 'stopped' : 'skipped') : i < reached ? 'done' : i === reached ? 'current' : 'todo';
    return html`<li class="${cls}"${cls === 'current' || (last && closedOther) ? html` aria-current="step"` : ''}>${label}</li>`;
  })}</ol>`;
}

const time = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/** 1234 → `1.2 kB`; unknown (no connection accounting on this gateway) → `—`. */
export function byteCount(bytes: number | undefined): string {
  if (bytes === undefined) return '—';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `operator:ann` → `operator ann`; an older center that does not say → `an operator`. */
function workerName(actor: string | null): string {
  if (actor === null) return 'an operator';
  const [kind, ...rest] = actor.split(':');
  return rest.length === 0 ? actor : `${kind} ${rest.join(':')}`;
}

/** The part of the ticket page the script refreshes. */
export function ticketRegion(m: TicketModel): SafeHtml {
  const open = m.state === 'waiting' || m.state === 'ready' || m.state === 'in_progress';
  return html`<div class="ticket-head"><h1>Request <span class="number">#${m.ticket}</span></h1> <span class="state state-${m.state}" id="ticket-state">${STATE_WORDS[m.state].label}</span></div>
${stepper(m.state)}
<p class="lead">${STATE_WORDS[m.state].text}</p>
${m.stale !== null && html`<div class="banner" role="alert">${m.stale}</div>`}
${m.startedAt !== null && html`<p class="worker" id="worker">Work started at <b>${time(m.startedAt)} UTC</b> by <b>${workerName(m.startedBy)}</b>.</p>`}
${m.state === 'waiting' && (m.blocked ?? []).length > 0 && html`<div class="banner blocked" role="status"><b>Not reachable yet:</b> ${(m.blocked ?? []).join('; ')}</div>`}
${m.consent ?? html``}
${open && html`<form method="post" action="/tickets/${m.ticket}/cancel" class="cancel"><input type="hidden" name="_csrf" value="${m.csrf}"><button type="submit" class="danger">Cancel this request</button></form>`}
<section class="card"><h2>Open to the center right now</h2>
${m.openNow.length === 0 ? html`<p class="muted">Nothing on your network can be reached by the center.</p>` : html`<ul class="open-now">${m.openNow.map((l) => html`<li><span class="name">${l.device}</span> <span class="addr">${l.lanAddress ?? ''}</span> <span class="muted">as ${l.address}</span></li>`)}</ul>`}
</section>
<section class="card"><h2>Connections the center made during this request</h2>
${m.connections.length === 0 ? html`<p class="muted">None so far.</p>` : html`<table><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Device</th><th scope="col">Address</th><th scope="col">Port</th><th scope="col">Protocol</th><th scope="col">Sent to it</th><th scope="col">Received</th></tr></thead>
<tbody>${m.connections.map((c) => html`<tr><td>${time(c.at)}</td><td>${c.device}</td><td>${c.address}</td><td>${c.port ?? '—'}</td><td>${c.protocol}</td><td>${byteCount(c.bytes?.toDevice)}</td><td>${byteCount(c.bytes?.fromDevice)}</td></tr>`)}</tbody></table>`}
</section>
<p class="foot">Requested ${new Date(m.createdAt).toISOString().slice(0, 19).replace('T', ' ')} UTC for ${m.leases.map((l) => l.device).join(', ')}. <a href="/">New request</a></p>`;
}

export function ticketPage(m: TicketModel): SafeHtml {
  return helpDocument(`Request #${m.ticket}: ${STATE_WORDS[m.state].label}`, ticketRegion(m), `/tickets/${m.ticket}`);
}

export function messagePage(title: string, text: string): SafeHtml {
  return helpDocument(title, html`<h1>${title}</h1><div class="card"><p>${text}</p><p><a href="/">Back to the form</a></p></div>`);
}
