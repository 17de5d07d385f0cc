// The operator console: mounts its pages under /console on a center listener (both of them), with its own errors and headers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { errorReply } from '../../web/error-reply.ts';
import { logAnswer } from '../api/request-log.ts';
import type { CenterContext } from '../context.ts';
import { actionRoutes } from './console-actions.ts';
import { fleetActionRoutes } from './fleet-actions.ts';
import { authRoutes, LIVE_HEADER, sessionGuard } from './console-auth.ts';
import { consoleScript } from './console-client.ts';
import { sendPage, pageRoutes } from './console-pages.ts';
import { acquireConsoleServices, type ConsoleServices } from './console-services.ts';
import { CONSOLE_CSS } from './console-style.ts';
import { askRoutes } from './ticket-ask-action.ts';
import { recordDownloadRoutes } from './ticket-record.ts';
import { extendRoutes } from './ticket-time.ts';
import { messagePage } from './login-page.ts';
import { consoleTextFor, type ConsoleText } from './text.ts';
import { languageSwitch } from '../../web/language.ts';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** What each error code means to the person at the console. */
function titleOf(t: ConsoleText, code: string, status: number): string {
  if (code === 'CSRF_BAD' || code === 'RATE_LIMITED' || code === 'ROLE_FORBIDDEN') return t.t(`error.${code}.title`);
  if (status === 404) return t.t('error.not-found.title');
  if (status === 400) return t.t('error.bad-request.title');
  if (status === 409) return t.t('error.refused.title');
  return t.t('error.other.title');
}

/** Schema errors name JSON paths; a person needs to know which field, in words. */
function plainWords(t: ConsoleText, error: unknown, body: { message: string; field?: string }): string {
  const validation = error as { validation?: unknown; validationContext?: string };
  if (!Array.isArray(validation.validation)) return body.message;
  const where = validation.validationContext === 'body' ? 'error.form-value' : 'error.address-value';
  return body.field === undefined ? t.t(where) : t.t(`${where}.field`, { field: body.field });
}

function errorPage(services: ConsoleServices) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const answer = errorReply(error);
    logAnswer(services.ctx.log.child({ component: 'console' }), request, error, answer);
    if (request.headers[LIVE_HEADER] !== undefined) return reply.status(answer.status).type('text/plain').send(answer.body.error.message);
    const session = request.consoleSession ?? null;
    const t = consoleTextFor(request);
    const text = answer.serverFault ? t.t('error.server') : plainWords(t, error, answer.body.error);
    const link = session === null ? { href: '/console/login', label: t.t('login.submit') } : { href: '/console/', label: t.t('message.back.tickets') };
    return sendPage(reply, messagePage(t, titleOf(t, answer.body.error.code, answer.status), text, session, link), answer.status);
  };
}

async function consoleScope(scope: FastifyInstance, ctx: CenterContext): Promise<void> {
  const { services, release } = acquireConsoleServices(ctx);
  // Pages, not API: keep them out of /openapi.json.
  scope.addHook('onRoute', (route) => { route.schema = { ...route.schema, hide: true }; });
  scope.addHook('onClose', async () => { await release(); });
  await scope.register(formbody, { bodyLimit: 64 * 1024 });
  scope.setErrorHandler(errorPage(services));
  scope.setNotFoundHandler((request, reply) => {
    const t = consoleTextFor(request);
    sendPage(reply, messagePage(t, t.t('error.not-found.title'), t.t('error.not-found', { path: request.url.split('?')[0] ?? '' }), request.consoleSession ?? null), 404);
  });
  scope.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin').header('x-frame-options', 'DENY');
  });
  await sessionGuard(scope, services);
  const script = consoleScript();
  scope.get('/assets/console.css', { config: { public: true, auth: 'public' } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(CONSOLE_CSS));
  scope.get('/assets/console.js', { config: { public: true, auth: 'public' } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(script));
  languageSwitch(scope, { path: '/lang', home: '/console/', config: { public: true, auth: 'public' } });
  await authRoutes(scope, services);
  await pageRoutes(scope, services);
  await actionRoutes(scope, services);
  await fleetActionRoutes(scope, services);
  await askRoutes(scope, services);
  await recordDownloadRoutes(scope, services);
  await extendRoutes(scope, services);
}

/** The center plugin: `/console/…`, and `/` sending a browser there. */
export async function consolePlugin(app: FastifyInstance, ctx: CenterContext): Promise<void> {
  app.get('/', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 302));
  await app.register(async (scope) => { await consoleScope(scope, ctx); }, { prefix: '/console' });
}
