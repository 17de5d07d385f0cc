// The help page's job records: a closed request's record, signed by this gateway, as JSON and as a printable page.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { canonicalJson } from '../../protocol/job-record.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import type { HelpAccess } from './access.ts';
import { byteCount } from './page.ts';
import type { JobRecords } from './record-store.ts';
import { ownTicket, sendHtml } from './routes.ts';
import type { SignedJobRecord } from '../../protocol/schemas/job-record.ts';

const Params = Type.Object({ ticket: Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }) });
const time = (ms: number | null): string => ms === null ? '—' : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** The printable page of one record (plain HTML, no script: it prints as it shows). */
export function recordPage(signed: SignedJobRecord): SafeHtml {
  const r = signed.record;
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Job record ${r.ticket}</title><link rel="stylesheet" href="/help.css"></head><body><main>
<h1>Job record of request ${r.ticket}</h1>
<p>Gateway ${r.site}. Requested ${time(r.request.at)} UTC by ${r.request.requester} (${r.request.level}, ${r.request.urgency}) for ${r.request.devices.join(', ')}.${r.request.description === null ? '' : html` Why: ${r.request.description}`}</p>
<h2>Consent</h2><ul>${r.consent.access.map((a) => html`<li>${a.device}: ${a.services === 'all' ? 'everything' : [...a.services.services, ...a.services.ports.map((p) => `${p.proto}/${p.port}`)].join(', ')}</li>`)}
${r.consent.asks.map((a) => html`<li>${a.askedBy} asked for ${a.device} at ${time(a.askedAt)} UTC: ${a.state}</li>`)}</ul>
<h2>Who worked</h2><p>${r.operators.length === 0 ? 'No operator.' : r.operators.join(', ')}${r.startedBy === null ? '' : html`; started by ${r.startedBy} at ${time(r.startedAt)} UTC`}</p>
<h2>Connections</h2>${r.connections === null || r.connections.length === 0 ? html`<p>None.</p>` : html`<table><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Device</th><th scope="col">Address</th><th scope="col">Port</th><th scope="col">Protocol</th><th scope="col">Sent to it</th><th scope="col">Received</th></tr></thead>
<tbody>${r.connections.map((c) => html`<tr><td>${time(c.at)}</td><td>${c.device}</td><td>${c.address}</td><td>${c.port ?? '—'}</td><td>${c.protocol}</td><td>${byteCount(c.toDevice ?? undefined)}</td><td>${byteCount(c.fromDevice ?? undefined)}</td></tr>`)}</tbody></table>`}
<h2>End</h2><p>${r.end.state} at ${time(r.end.at)} UTC${r.end.reason === null ? '' : html` (${r.end.reason})`}</p>
<p class="muted">Signed by this gateway (Ed25519 key ${signed.signature.key}). <a href="/records/${r.ticket}.json">Download as JSON</a> and check it with <code>keyhole record verify FILE --key ${signed.signature.key}</code>.</p>
</main></body></html>`;
}

export async function helpRecordRoutes(scope: FastifyInstance, deps: { records: JobRecords; access: HelpAccess }): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/record-key', async (_request, reply) => reply.header('cache-control', 'no-store').send({ alg: 'Ed25519', key: deps.records.publicKey }));
  app.get('/records', async (request, reply) => {
    const mine = deps.records.tickets().filter((t) => deps.access.mayAccess(request, t));
    return sendHtml(reply, html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Past requests</title><link rel="stylesheet" href="/help.css"></head><body><main><h1>Past requests</h1>
${mine.length === 0 ? html`<p class="muted">No past request of this browser.</p>` : html`<ul>${mine.map((t) => html`<li><a href="/records/${t}">Request ${t}</a> · <a href="/records/${t}.json">JSON</a></li>`)}</ul>`}
<p class="muted">This gateway's record key: ${deps.records.publicKey}</p><p><a href="/">New request</a></p></main></body></html>`);
  });
  app.get('/records/:ticket.json', { schema: { params: Params } }, async (request, reply) => {
    ownTicket(deps.access, request, request.params.ticket);
    const signed = deps.records.read(request.params.ticket);
    return reply.header('cache-control', 'no-store').header('content-disposition', `attachment; filename="keyhole-record-${request.params.ticket}.json"`)
      .type('application/json').send(canonicalJson(signed));
  });
  app.get('/records/:ticket', { schema: { params: Params } }, async (request, reply) => {
    ownTicket(deps.access, request, request.params.ticket);
    return sendHtml(reply, recordPage(deps.records.read(request.params.ticket)));
  });
}
