// The help page's administrator sign-in and sign-out: the gateway owner's password (--admin-password-file) gives a browser every ticket of the site.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { KeyholeError } from '../../protocol/errors.ts';
import { provePassword, type HelpAccess } from './access.ts';
import type { HelpCsrf } from './csrf.ts';
import { adminPage } from './page.ts';
import { HELP_ENGLISH, helpTextFor } from './text.ts';
import { refused, sendHtml } from './routes.ts';

const SignInBody = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 100 })), password: Type.Optional(Type.String({ maxLength: 1024 })) });
const SignOutBody = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 100 })) });

function notOffered(): never {
  throw new KeyholeError('NOT_FOUND', HELP_ENGLISH['page.no-admin']);
}

export async function helpAdminRoutes(scope: FastifyInstance, deps: { access: HelpAccess; csrf: HelpCsrf }): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { access, csrf } = deps;

  app.get('/admin', async (request, reply) => {
    if (!access.adminOffered) notOffered();
    return sendHtml(reply, adminPage({ t: helpTextFor(request), csrf: csrf.tokenFor(request, reply), error: null }));
  });

  app.post('/admin', { schema: { body: SignInBody } }, async (request, reply) => {
    if (!access.adminOffered) notOffered();
    if (!csrf.valid(request, request.body._csrf)) refused();
    const problem = provePassword(access, request, reply, request.body.password);
    if (problem !== null) return sendHtml(reply, adminPage({ t: helpTextFor(request), csrf: csrf.tokenFor(request, reply), error: problem.text }), problem.status);
    return reply.redirect('/', 303);
  });

  app.post('/admin/logout', { schema: { body: SignOutBody } }, async (request, reply) => {
    if (!csrf.valid(request, request.body._csrf)) refused();
    access.signOut(reply);
    return reply.redirect('/', 303);
  });
}
