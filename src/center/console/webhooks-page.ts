// The webhooks page: the endpoints the center posts ticket events to, and the delivery log with each attempt's outcome.
import { html, type SafeHtml } from '../../web/html.ts';
import type { DeliveryView, WebhookView } from '../webhooks.ts';
import { timeCell } from './format.ts';
import type { ConsoleText } from './text.ts';

export const DELIVERY_PAGE = 100;

export function webhooksIntro(): SafeHtml {
  return html`<div class="page-head"><div><h1>Webhooks</h1><p class="muted">Ticket events signed with each endpoint's secret (<code>Keyhole-Signature</code>), retried with backoff. Add one with <code>keyhole center webhooks add URL</code>.</p></div></div>`;
}

function stateCell(t: ConsoleText, d: DeliveryView, now: number): SafeHtml {
  if (d.state === 'delivered') return html`<span class="badge state-in_progress">delivered</span>`;
  if (d.state === 'failed') return html`<span class="badge state-failed">failed</span>`;
  return html`<span class="badge state-waiting">pending</span> <span class="muted">next ${timeCell(t, d.nextAt, now)}</span>`;
}

export function webhooksRegion(model: { t: ConsoleText; hooks: WebhookView[]; deliveries: DeliveryView[]; now: number }): SafeHtml {
  const live = model.hooks.filter((h) => h.removedAt === null);
  return html`<div class="panel"><table aria-label="Webhook endpoints">
<thead><tr><th scope="col">#</th><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Added</th></tr></thead>
<tbody>${live.map((h) => html`<tr><td class="muted">${h.id}</td><td class="mono">${h.url}</td><td>${h.events.join(', ')}</td><td>${timeCell(model.t, h.createdAt, model.now)}</td></tr>`)}</tbody></table>
${live.length === 0 && html`<p class="empty">No webhook endpoints.</p>`}</div>
<div class="panel"><table aria-label="Webhook deliveries">
<thead><tr><th scope="col">#</th><th scope="col">Endpoint</th><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Queued (UTC)</th></tr></thead>
<tbody>${model.deliveries.map((d) => html`<tr>
<td class="muted">${d.id}</td><td>${d.webhook}</td><td><code>${d.event}</code></td><td>${stateCell(model.t, d, model.now)}</td><td>${d.attempts}</td><td class="mono muted">${d.lastError ?? (d.lastStatus === null ? '' : `HTTP ${d.lastStatus}`)}</td><td>${timeCell(model.t, d.createdAt, model.now)}</td>
</tr>`)}</tbody></table>
${model.deliveries.length === 0 && html`<p class="empty">Nothing delivered yet.</p>`}</div>`;
}
