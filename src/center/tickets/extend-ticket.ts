// Operators' asks for more time and the site user's answer: like an ask for access, inert until accepted; accepted, the deadline moves (capped).
import { formatDuration } from '../../base/duration.ts';
import { InputError, KeyholeError } from '../../protocol/errors.ts';
import { audit } from '../audit.ts';
import type { Actor, CenterContext } from '../context.ts';
import { bumpSite, transact } from '../transaction.ts';
import { lockOpenTicket } from './ask-access.ts';
import { extendedDeadline, timeBounds, warnAt } from './time-limit.ts';

/** A started ticket's clock under its site's lock; anything else cannot be extended. */
async function lockRunning(ctx: CenterContext, trx: Parameters<typeof lockOpenTicket>[1], ticket: number, site?: string) {
  const row = await lockOpenTicket(ctx, trx, ticket, site);
  const clock = await trx.selectFrom('tickets').select(['state', 'started_at', 'deadline_at']).where('number', '=', ticket).executeTakeFirstOrThrow();
  if (clock.state !== 'in_progress' || clock.started_at === null || clock.deadline_at === null) {
    throw new KeyholeError('TICKET_STATE', `ticket ${ticket} has not started: its clock runs from the start of work`);
  }
  return { site: row.site, startedAt: Number(clock.started_at), deadlineAt: Number(clock.deadline_at) };
}

/** An operator asks the ticket's user for `byMs` more; nothing changes until the user accepts on the help page. One ask waits at a time. */
export async function askExtension(ctx: CenterContext, ticket: number, byMs: number, actor: Actor): Promise<number> {
  if (!Number.isSafeInteger(byMs) || byMs <= 0) throw new InputError('an extension must be a positive duration', { field: 'byMs' });
  const bounds = timeBounds(ctx.config);
  return transact(ctx, async (trx, changes) => {
    const row = await lockRunning(ctx, trx, ticket);
    const cap = row.startedAt + bounds.maxMs;
    if (row.deadlineAt >= cap) throw new InputError(`ticket ${ticket} already runs to this center's longest time limit (${formatDuration(bounds.maxMs)})`, { field: 'byMs' });
    const pending = await trx.selectFrom('ticket_extensions').select('id').where('ticket', '=', ticket).where('state', '=', 'pending').executeTakeFirst();
    if (pending !== undefined) throw new KeyholeError('TICKET_STATE', `ticket ${ticket} already has an ask for more time waiting for the user (${pending.id})`);
    const now = ctx.now();
    await bumpSite(trx, row.site); // the help page hears of the ask through the site's desired state
    const inserted = await trx.insertInto('ticket_extensions').values({ ticket, extend_ms: byMs, state: 'pending', asked_by: actor, asked_at: now, answered_at: null })
      .returning('id').executeTakeFirstOrThrow();
    const id = Number(inserted.id);
    await audit(trx, now, { actor, action: 'ticket.extension.asked', subject: `ticket:${ticket}`, detail: { site: row.site, extension: id, byMs, deadlineAt: row.deadlineAt } });
    changes.sites.add(row.site);
    changes.tickets.add(ticket);
    return id;
  });
}

/** The site's user answers an ask for more time: accepted, the deadline moves later (never past start + `--ticket-ttl`); refused, nothing moves. */
export async function answerExtension(ctx: CenterContext, site: string, ticket: number, extension: number, accept: boolean): Promise<void> {
  const actor = `site:${site}`;
  const bounds = timeBounds(ctx.config);
  await transact(ctx, async (trx, changes) => {
    const row = await lockRunning(ctx, trx, ticket, site);
    const asked = await trx.selectFrom('ticket_extensions').selectAll().where('id', '=', extension).where('ticket', '=', ticket).executeTakeFirst();
    if (asked === undefined) throw new KeyholeError('NOT_FOUND', `ticket ${ticket} has no ask for more time ${extension}`);
    if (asked.state !== 'pending') throw new KeyholeError('TICKET_STATE', `the ask for more time ${extension} was already ${asked.state}`);
    const now = ctx.now();
    await bumpSite(trx, row.site);
    const state = accept ? 'accepted' : 'refused';
    const updated = await trx.updateTable('ticket_extensions').set({ state, answered_at: now }).where('id', '=', extension).where('state', '=', 'pending').executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new KeyholeError('TICKET_STATE', `the ask for more time ${extension} changed meanwhile; look again`);
    const byMs = Number(asked.extend_ms);
    const deadlineAt = accept ? extendedDeadline(bounds, row, byMs) : row.deadlineAt;
    if (accept) {
      // A deadline moved out of the warning window is warned again before it.
      const rewarn = warnAt(bounds, deadlineAt) > now;
      await trx.updateTable('tickets').set({ deadline_at: deadlineAt, updated_at: now, ...(rewarn ? { warned_at: null } : {}) }).where('number', '=', ticket).execute();
    }
    await audit(trx, now, {
      actor, action: `ticket.extension.${state}`, subject: `ticket:${ticket}`,
      detail: { site: row.site, extension, byMs, ...(accept ? { from: row.deadlineAt, deadlineAt } : { deadlineAt }) },
    });
    changes.sites.add(row.site);
    changes.tickets.add(ticket);
  });
}
