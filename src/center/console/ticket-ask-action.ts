// The console's "Ask for more" action: the form's ask goes to askAccess; a refusal is said on the ticket page and nothing is asked.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { KeyholeError } from '../../protocol/errors.ts';
import { askAccess } from '../tickets/ask-access.ts';
import { TicketParams } from './console-forms.ts';
import { sendPage, ticketParts } from './console-pages.ts';
import type { ConsoleServices } from './console-services.ts';
import { consolePage } from './layout.ts';
import { consoleTextFor } from './text.ts';
import { AskForm, readAskForm } from './ticket-asks.ts';

/** Refusals said on the ticket page: bad input, gateway on a user-level ticket, a closed ticket or too many asks waiting. */
const SAID = new Set(['BAD_REQUEST', 'LEVEL_FORBIDDEN', 'TICKET_STATE']);

/** POST /console/tickets/:ticket/asks: an operator asks the ticket's user for more (askAccess); any operator may ask. */
export async function askRoutes(scope: FastifyInstance, services: ConsoleServices): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/tickets/:ticket/asks', { config: { auth: 'console' }, schema: { params: TicketParams, body: AskForm } }, async (request, reply) => {
    const session = request.consoleSession;
    if (session === null) throw new Error('console action reached without a session');
    const ticket = request.params.ticket;
    try {
      await askAccess(services.ctx, ticket, readAskForm(request.body), `operator:${session.operator}`);
    } catch (error) {
      if (!(error instanceof KeyholeError) || !SAID.has(error.code)) throw error;
      const t = consoleTextFor(request);
      const parts = await ticketParts(services, ticket, session, t);
      return sendPage(reply, consolePage({ ...parts, session, t, notice: { kind: 'error', text: t.t('ask.refused', { reason: error.message }) } }), error.status);
    }
    return reply.redirect(`/console/tickets/${ticket}`, 303);
  });
}
