// The webhooks page: the endpoints the center posts ticket events to, and the delivery log with each attempt's outcome.
import { html, type SafeHtml } from '../../web/html.ts';
import type { DeliveryView, WebhookView } from '../webhooks.ts';
import { timeCell } from './format.ts';
import type { ConsoleText } from './text.ts';

export const DELIVERY_PAGE = 100;

export function webhooksIntro(t: ConsoleText): SafeHtml {
  return html`<div class="page-head"><div><h1>${t.t('nav.webhooks')}</h1><p class="muted">${t.html('webhooks.lead', { header: html`<code>Keyhole-Signature</code>`, command: html`<code>keyhole center webhooks add URL</code>` })}</p></div></div>`;
}

function stateCell(t: ConsoleText, d: DeliveryView, now: number): SafeHtml {
  if (d.state === 'delivered') return html`<span class="badge state-in_progress">${t.t('webhooks.delivered')}</span>`;
  if (d.state === 'failed') return html`<span class="badge state-failed">${t.t('webhooks.failed')}</span>`;
  return html`<span class="badge state-waiting">${t.t('webhooks.pending')}</span> <span class="muted">${t.t('webhooks.next')} ${timeCell(t, d.nextAt, now)}</span>`;
}

export function webhooksRegion(model: { t: ConsoleText; hooks: WebhookView[]; deliveries: DeliveryView[]; now: number }): SafeHtml {
  const live = model.hooks.filter((h) => h.removedAt === null);
  const { t } = model;
  return html`<div class="panel"><table aria-label="${t.t('webhooks.endpoints')}">
<thead><tr><th scope="col">#</th><th scope="col">URL</th><th scope="col">${t.t('webhooks.col.events')}</th><th scope="col">${t.t('webhooks.col.added')}</th></tr></thead>
<tbody>${live.map((h) => html`<tr><td class="muted">${h.id}</td><td class="mono">${h.url}</td><td>${h.events.join(', ')}</td><td>${timeCell(model.t, h.createdAt, model.now)}</td></tr>`)}</tbody></table>
${live.length === 0 && html`<p class="empty">${t.t('webhooks.none')}</p>`}</div>
<div class="panel"><table aria-label="${t.t('webhooks.deliveries')}">
<thead><tr><th scope="col">#</th><th scope="col">${t.t('hubs.col.endpoint')}</th><th scope="col">${t.t('webhooks.col.event')}</th><th scope="col">${t.t('queue.state')}</th><th scope="col">${t.t('webhooks.col.attempts')}</th><th scope="col">${t.t('webhooks.col.answer')}</th><th scope="col">${t.t('webhooks.col.queued')}</th></tr></thead>
<tbody>${model.deliveries.map((d) => html`<tr>
<td class="muted">${d.id}</td><td>${d.webhook}</td><td><code>${d.event}</code></td><td>${stateCell(model.t, d, model.now)}</td><td>${d.attempts}</td><td class="mono muted">${d.lastError ?? (d.lastStatus === null ? '' : `HTTP ${d.lastStatus}`)}</td><td>${timeCell(model.t, d.createdAt, model.now)}</td>
</tr>`)}</tbody></table>
${model.deliveries.length === 0 && html`<p class="empty">${t.t('webhooks.empty')}</p>`}</div>`;
}
