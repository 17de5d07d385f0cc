// The console's fleet buttons (admins only): revoke, delete and approve a site; drain, undrain and remove a hub. Plain CSRF forms.
import Type from 'typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { KeyholeError } from '../../protocol/errors.ts';
import { Name } from '../../protocol/schemas/common.ts';
import { DEFAULT_TOKEN_TTL_MS } from '../writes/enroll-tokens.ts';
import { removeHub, setHubDrained } from '../writes/hub-lifecycle.ts';
import { approveSite, deleteSite, revokeSite } from '../writes/site-lifecycle.ts';
import { ActionForm } from './console-forms.ts';
import { hubsParts, sendPage, sitesParts } from './console-pages.ts';
import { consoleTextFor } from './text.ts';
import type { ConsoleServices } from './console-services.ts';
import { consolePage, type Notice } from './layout.ts';
import type { Session } from './sessions.ts';

const SiteParams = Type.Object({ site: Name });
const HubParams = Type.Object({ hub: Name });
/** Refusals said on the page itself: a wrong state, an unknown name (another admin got there first). */
const SAID = new Set(['SITE_STATE', 'HUB_STATE', 'NOT_FOUND', 'HUB_UNKNOWN']);
const config = { auth: 'console', role: 'admin' } as const;

type Page = 'sites' | 'hubs';

function sessionOf(request: FastifyRequest): Session {
  if (request.consoleSession === null) throw new Error('console action reached without a session');
  return request.consoleSession;
}

/** Runs `act` as the session's operator and shows the page again with what happened (or why it was refused). */
async function perform(services: ConsoleServices, request: FastifyRequest, reply: FastifyReply, page: Page, act: (actor: string) => Promise<string>): Promise<FastifyReply> {
  const session = sessionOf(request);
  let notice: Notice;
  let status = 200;
  try {
    notice = { kind: 'ok', text: await act(`operator:${session.operator}`) };
  } catch (error) {
    if (!(error instanceof KeyholeError) || !SAID.has(error.code)) throw error;
    notice = { kind: 'error', text: consoleTextFor(request).t('action.refused', { reason: error.message }) };
    status = error.status;
  }
  const parts = page === 'sites' ? await sitesParts(services, session, consoleTextFor(request)) : await hubsParts(services, session, consoleTextFor(request));
  return sendPage(reply, consolePage({ ...parts, session, t: consoleTextFor(request), notice }), status);
}

export async function fleetActionRoutes(scope: FastifyInstance, services: ConsoleServices): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = services;
  const site = { config, schema: { params: SiteParams, body: ActionForm } };
  const hub = { config, schema: { params: HubParams, body: ActionForm } };
  app.post('/sites/:site/revoke', site, async (request, reply) => perform(services, request, reply, 'sites', async (actor) => {
    const revoked = await revokeSite(ctx, request.params.site, actor, request.body.reason?.trim() || null);
    return consoleTextFor(request).t('fleet.done.revoked', { site: revoked.site, n: revoked.ticketsEnded.length });
  }));
  app.post('/sites/:site/delete', site, async (request, reply) => perform(services, request, reply, 'sites', async (actor) => {
    const deleted = await deleteSite(ctx, request.params.site, actor);
    return consoleTextFor(request).t('fleet.done.deleted', { site: deleted.site, n: deleted.ticketsRemoved });
  }));
  app.post('/sites/:site/approve', site, async (request, reply) => perform(services, request, reply, 'sites', async (actor) => {
    const issued = await approveSite(ctx, request.params.site, DEFAULT_TOKEN_TTL_MS, actor);
    return consoleTextFor(request).t('fleet.done.approved', { site: issued.site, token: issued.token });
  }));
  const drain = (path: string, drained: boolean) => app.post(path, hub, async (request, reply) => perform(services, request, reply, 'hubs', async (actor) => {
    const changed = await setHubDrained(ctx, request.params.hub, drained, actor);
    const key = drained ? (changed ? 'fleet.done.drained' : 'fleet.done.drained.already') : (changed ? 'fleet.done.undrained' : 'fleet.done.undrained.already');
    return consoleTextFor(request).t(key, { hub: request.params.hub });
  }));
  drain('/hubs/:hub/drain', true);
  drain('/hubs/:hub/undrain', false);
  app.post('/hubs/:hub/remove', hub, async (request, reply) => perform(services, request, reply, 'hubs', async (actor) => {
    await removeHub(ctx, request.params.hub, actor);
    return consoleTextFor(request).t('fleet.done.removed', { hub: request.params.hub });
  }));
}
