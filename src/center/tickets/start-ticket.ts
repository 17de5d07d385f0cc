// Starting work on a ready ticket (DESIGN step 5): the operator's `start`.
import { KeyholeError } from '../../protocol/errors.ts';
import type { TicketState } from '../../protocol/schemas/common.ts';
import { audit } from '../audit.ts';
import type { Actor, CenterContext } from '../context.ts';
import { bumpSite, transact } from '../transaction.ts';
import { timeBounds } from './time-limit.ts';

/** ready → in_progress; the ticket's clock starts now (its deadline: now + its time limit). A waiting ticket cannot start: its tunnel is not up yet. */
export async function startTicket(ctx: CenterContext, ticket: number, actor: Actor): Promise<void> {
  await transact(ctx, async (trx, changes) => {
    const row = await trx.selectFrom('tickets').select(['site', 'state', 'time_limit_ms']).where('number', '=', ticket).executeTakeFirst();
    if (row === undefined) throw new KeyholeError('TICKET_UNKNOWN', `there is no ticket ${ticket}`);
    const state = row.state as TicketState;
    if (state !== 'ready') {
      const why = state === 'waiting' ? 'its tunnel is not up yet' : state === 'in_progress' ? 'it is already in progress' : `it is ${state}`;
      throw new KeyholeError('TICKET_STATE', `ticket ${ticket} cannot start: ${why}`);
    }
    const now = ctx.now();
    await bumpSite(trx, row.site); // the site's row before its ticket: the lock order every transaction keeps
    // A ticket from before time limits has none of its own: the longest limit (`--ticket-ttl`), as before.
    const limitMs = row.time_limit_ms === null ? timeBounds(ctx.config).maxMs : Number(row.time_limit_ms);
    const deadlineAt = now + limitMs;
    const updated = await trx.updateTable('tickets').set({ state: 'in_progress', started_at: now, started_by: actor, updated_at: now, deadline_at: deadlineAt, warned_at: null })
      .where('number', '=', ticket).where('state', '=', 'ready').executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new KeyholeError('TICKET_STATE', `ticket ${ticket} changed meanwhile; look again`);
    await audit(trx, now, { actor, action: 'ticket.started', subject: `ticket:${ticket}`, detail: { site: row.site, deadlineAt, timeLimitMs: limitMs } });
    changes.sites.add(row.site);
    changes.tickets.add(ticket);
  });
}
