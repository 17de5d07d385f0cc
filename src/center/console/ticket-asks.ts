// The ticket page's services: what each lease admits with only the links it admits, the operators' asks for more and their answers, and the "Ask for more" form.
import Type from 'typebox';
import { Value } from 'typebox/value';
import { InputError } from '../../protocol/errors.ts';
import { DeviceName, GATEWAY_DEVICE, isOpenState } from '../../protocol/schemas/common.ts';
import type { TicketView } from '../../protocol/schemas/operator-api.ts';
import { SERVICE_NAMES, type ServiceSpec } from '../../protocol/schemas/services.ts';
import { SERVICE_LABELS, parseServiceList } from '../../protocol/services.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { leaseLinks, reachUrls, timeCell } from './format.ts';
import { csrfField } from './layout.ts';
import type { Session } from './sessions.ts';
import type { ConsoleText } from './text.ts';

/** `web (80, 443), tcp 8080`, or `everything`. */
export function servicesText(w: ConsoleText, spec: ServiceSpec | undefined): string {
  if (spec === undefined || spec === 'all') return w.t('services.all');
  return [...spec.services.map((s) => SERVICE_LABELS[s]), ...spec.ports.map((p) => `${p.proto} ${p.port}`)].join(', ');
}

/** The leases: device, address, what it admits, and the links that match (none for a service no URL opens). */
export function leasesTable(w: ConsoleText, t: TicketView): SafeHtml {
  const open = isOpenState(t.state);
  if (t.leases.length === 0) return html`<p class="empty">${w.t('ticket.no-devices')}</p>`;
  return html`<table aria-label="${w.t('ticket.leases')}">
<thead><tr><th scope="col">${w.t('ticket.col.device')}</th><th scope="col">${w.t('ticket.col.address')}</th><th scope="col">${w.t('ticket.col.services')}</th><th scope="col">${w.t('ticket.col.reach')}</th></tr></thead>
<tbody>${t.leases.map((l) => {
    const urls = reachUrls(l.address, l.services);
    return html`<tr data-device="${l.device}">
<td class="device">${l.device}</td><td><code>${l.address}</code></td><td class="services">${servicesText(w, l.services)}</td>
<td>${!open ? html`<span class="muted">${w.t('ticket.released')}</span>` : urls.length === 0 ? html`<span class="muted">${w.t('ticket.no-link')}</span>`
    : html`${leaseLinks(w, l.address, l.services)} <span class="sub mono">${urls.map((u) => u.label === 'ssh' ? `ssh ${l.address}` : u.url).join(' · ')}</span>`}</td>
</tr>`;
  })}</tbody>
</table>`;
}

const ASK_STATE = { pending: 'ask.state.pending', accepted: 'ask.state.accepted', refused: 'ask.state.refused' } as const;

/** The asks with their state, and (while the ticket is open) the form to ask for more. */
export function asksSection(w: ConsoleText, t: TicketView, session: Session, now: number): SafeHtml {
  const asks = t.asks ?? [];
  const open = isOpenState(t.state);
  if (asks.length === 0 && !open) return html``;
  return html`<section class="panel" aria-labelledby="asks-h"><h2 id="asks-h" class="panel-title">${w.t('ask.heading')}</h2>
${asks.length === 0 ? html`<p class="empty">${w.t('ask.none')}</p>` : html`<table aria-label="${w.t('ask.label')}">
<thead><tr><th scope="col">${w.t('ask.col.asked')}</th><th scope="col">${w.t('ask.col.by')}</th><th scope="col">${w.t('ticket.col.device')}</th><th scope="col">${w.t('ticket.col.services')}</th><th scope="col">${w.t('ask.col.state')}</th></tr></thead>
<tbody>${asks.map((a) => html`<tr data-ask="${a.ask}"><td>${timeCell(w, a.askedAt, now)}</td><td>${a.askedBy}</td><td class="device">${a.device}</td><td>${servicesText(w, a.services)}</td>
<td><span class="badge ask-${a.state}">${w.t(ASK_STATE[a.state])}</span>${a.answeredAt !== null && html` ${timeCell(w, a.answeredAt, now)}`}</td></tr>`)}</tbody></table>`}
${open && askForm(w, t, session)}
</section>`;
}

function askForm(w: ConsoleText, t: TicketView, session: Session): SafeHtml {
  const list = `ask-devices-${t.ticket}`;
  return html`<form method="post" action="/console/tickets/${t.ticket}/asks" class="ask-form">${csrfField(session)}
<p class="sub">${w.t('ask.form.lead')}</p>
<label for="ask-device">${w.t('ticket.col.device')}</label> <input id="ask-device" name="device" type="text" maxlength="253" list="${list}" required size="16">
<datalist id="${list}">${t.devices.map((d) => html`<option value="${d}">`)}${t.level === 'admin' && !t.devices.includes(GATEWAY_DEVICE) && html`<option value="${GATEWAY_DEVICE}">`}</datalist>
<fieldset class="ask-services"><legend>${w.t('ticket.col.services')}</legend>${SERVICE_NAMES.map((name) => html`<label class="choice"><input type="checkbox" name="services" value="${name}"> ${SERVICE_LABELS[name]}</label>`)}
<label class="choice"><input type="checkbox" name="services" value="all"> ${w.t('services.all')}</label>
<label for="ask-ports">${w.t('ask.form.ports')}</label> <input id="ask-ports" name="ports" type="text" maxlength="300" placeholder="8080, udp/554" size="14"></fieldset>
<button type="submit">${w.t('ask.form.submit')}</button></form>`;
}

export const ASKS_CSS = `
.ask-form { margin-top: 10px; display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; }
.ask-form .sub { flex-basis: 100%; margin: 0; }
.ask-services { border: 0; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; }
.ask-services legend { font-weight: 600; float: left; margin-right: 6px; }
.badge.ask-pending { background: #fff3d6; color: #8a5a00; } .badge.ask-accepted { background: #e3f5ec; color: #137a48; } .badge.ask-refused { background: #fdeceb; color: #b42318; }
`;

export const AskForm = Type.Object({
  _csrf: Type.String({ maxLength: 100 }),
  device: Type.String({ maxLength: 300 }),
  services: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 })])),
  ports: Type.Optional(Type.String({ maxLength: 300 })),
});

/** The form's fields as an ask; InputError (nothing is sent) for a device name that is not one, an unknown service, a bad port. */
export function readAskForm(body: Type.Static<typeof AskForm>): { device: string; services: ServiceSpec } {
  const device = body.device.trim().toLowerCase();
  if (device === '' || !Value.Check(DeviceName, device)) throw new InputError(`'${body.device.trim()}' is not a device name`, { field: 'device' });
  const ticked = Array.isArray(body.services) ? body.services : body.services === undefined ? [] : [body.services];
  const typed = (body.ports ?? '').split(/[\s,]+/);
  return { device, services: parseServiceList([...ticked, ...typed].join(','), 'services') };
}
