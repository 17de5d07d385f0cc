// The console's buttons: Start and End a ticket. Plain forms (they work without the script); a refusal is said in plain words.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { KeyholeError } from '../../protocol/errors.ts';
import { closeTicket } from '../tickets/close-ticket.ts';
import { startTicket } from '../tickets/start-ticket.ts';
import { ActionForm, safeReturn, TicketParams } from './console-forms.ts';
import { sendPage, ticketParts } from './console-pages.ts';
import { consoleTextFor } from './text.ts';
import type { ConsoleServices } from './console-services.ts';
import { consolePage } from './layout.ts';
import type { Session } from './sessions.ts';

function sessionOf(request: FastifyRequest): Session {
  if (request.consoleSession === null) throw new Error('console action reached without a session');
  return request.consoleSession;
}

/** Runs `act`; on a refusal (a waiting ticket, one already ended), shows the ticket with the reason at the top. */
async function perform(services: ConsoleServices, request: FastifyRequest, reply: FastifyReply, ticket: number, returnTo: string | undefined, act: (actor: string) => Promise<unknown>): Promise<FastifyReply> {
  const session = sessionOf(request);
  try {
    await act(`operator:${session.operator}`);
  } catch (error) {
    if (!(error instanceof KeyholeError) || error.code !== 'TICKET_STATE') throw error;
    const parts = await ticketParts(services, ticket, session, consoleTextFor(request));
    return sendPage(reply, consolePage({ ...parts, session, t: consoleTextFor(request), notice: { kind: 'error', text: consoleTextFor(request).t('action.refused', { reason: error.message }) } }), error.status);
  }
  return reply.redirect(safeReturn(returnTo, `/console/tickets/${ticket}`), 303);
}

export async function actionRoutes(scope: FastifyInstance, services: ConsoleServices): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = services;
  app.post('/tickets/:ticket/start', { config: { auth: 'console' }, schema: { params: TicketParams, body: ActionForm } }, async (request, reply) =>
    perform(services, request, reply, request.params.ticket, request.body.return, (actor) => startTicket(ctx, request.params.ticket, actor)));
  app.post('/tickets/:ticket/end', { config: { auth: 'console' }, schema: { params: TicketParams, body: ActionForm } }, async (request, reply) => {
    const reason = request.body.reason?.trim() || 'ended by the operator';
    return perform(services, request, reply, request.params.ticket, request.body.return,
      (actor) => closeTicket(ctx, { ticket: request.params.ticket, state: 'ended', actor, reason }));
  });
}
