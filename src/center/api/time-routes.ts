// The API of tickets' time: an operator asks for more time (POST /v1/tickets/:ticket/extensions), the site's user answers it.
import Type from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorBodySchema, RowId } from '../../protocol/schemas/common.ts';
import { ExtendRequest, TicketView } from '../../protocol/schemas/operator-api.ts';
import { SiteTicket } from '../../protocol/schemas/site-api.ts';
import { answerExtension, askExtension } from '../tickets/extend-ticket.ts';
import { getTicket } from '../views/ticket-views.ts';
import type { ApiDeps } from './deps.ts';
import { AnswerBody, answerOf } from './site-routes.ts';

const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema };
const TicketParams = Type.Object({ ticket: RowId });
const ExtensionParams = Type.Object({ ticket: RowId, extension: RowId });

export async function timeRoutes(scope: FastifyInstance, { ctx }: ApiDeps): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const operator = (request: FastifyRequest): string => request.operator ?? 'operator:unknown';

  app.post('/v1/tickets/:ticket/extensions', {
    config: { auth: 'operator' },
    schema: { summary: "Ask the site's user for more time: the deadline moves only when the user accepts on the help page", tags: ['operator'], security: [{ operatorToken: [] }], params: TicketParams, body: ExtendRequest, response: { 201: TicketView, ...errors } },
  }, async (request, reply) => {
    await askExtension(ctx, request.params.ticket, request.body.byMs, operator(request));
    return reply.status(201).send(await getTicket(ctx.db, request.params.ticket));
  });

  app.post('/v1/site/tickets/:ticket/extensions/:extension', {
    config: { auth: 'site' },
    schema: { summary: "The LAN user's answer to an operator's ask for more time", tags: ['site'], security: [{ siteSignature: [] }], params: ExtensionParams, body: AnswerBody, response: { 200: SiteTicket, ...errors } },
  }, async (request) => answerOf(ctx, request, request.params.ticket, request.body, (site, accept) => answerExtension(ctx, site, request.params.ticket, request.params.extension, accept)));
}
