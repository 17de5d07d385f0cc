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
import { messagePage } from './login-page.ts';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** What each error code means to the person at the console. */
function titleOf(code: string, status: number): string {
  if (code === 'CSRF_BAD') return 'This form was refused';
  if (code === 'RATE_LIMITED') return 'Too many attempts';
  if (code === 'ROLE_FORBIDDEN') return 'Not allowed for your role';
  if (status === 404) return 'Not found';
  if (status === 400) return 'That request was not understood';
  if (status === 409) return 'Refused';
  return 'Something went wrong';
}

/** Schema errors name JSON paths; a person needs to know which field, in words. */
function plainWords(error: unknown, body: { message: string; field?: string }): string {
  const validation = error as { validation?: unknown; validationContext?: string };
  if (!Array.isArray(validation.validation)) return body.message;
  const where = validation.validationContext === 'body' ? 'The form' : 'The page address';
  return `${where} has a value the console cannot use${body.field === undefined ? '' : ` (${body.field})`}. Go back and try again.`;
}

function errorPage(services: ConsoleServices) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const answer = errorReply(error);
    logAnswer(services.ctx.log.child({ component: 'console' }), request, error, answer);
    if (request.headers[LIVE_HEADER] !== undefined) return reply.status(answer.status).type('text/plain').send(answer.body.error.message);
    const session = request.consoleSession ?? null;
    const text = answer.serverFault ? 'The console could not do that; the center logged why. Try again in a moment.' : plainWords(error, answer.body.error);
    const link = session === null ? { href: '/console/login', label: 'Log in' } : { href: '/console/', label: 'Back to the tickets' };
    return sendPage(reply, messagePage(titleOf(answer.body.error.code, answer.status), text, session, link), answer.status);
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
    sendPage(reply, messagePage('Not found', `There is no console page at ${request.url.split('?')[0] ?? ''}.`, request.consoleSession ?? null), 404);
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
  await authRoutes(scope, services);
  await pageRoutes(scope, services);
  await actionRoutes(scope, services);
  await fleetActionRoutes(scope, services);
  await askRoutes(scope, services);
}

/** The center plugin: `/console/…`, and `/` sending a browser there. */
export async function consolePlugin(app: FastifyInstance, ctx: CenterContext): Promise<void> {
  app.get('/', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 302));
  await app.register(async (scope) => { await consoleScope(scope, ctx); }, { prefix: '/console' });
}
