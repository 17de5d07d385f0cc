// Ending a ticket (DESIGN step 6): device by device, leases no other open ticket needs leave; the last one frees tunnel and slot.
import { KeyholeError } from '../../protocol/errors.ts';
import { GATEWAY_DEVICE, OPEN_STATES, isOpenState, type TicketState } from '../../protocol/schemas/common.ts';
import { audit, type AuditEntry } from '../audit.ts';
import type { Actor, CenterContext, Changes, Tx } from '../context.ts';
import { recordKey } from '../record-key.ts';
import { bumpHub, bumpSite, lockable, transact } from '../transaction.ts';
import { writeJobRecord } from './job-record.ts';

export type ClosedState = Extract<TicketState, 'ended' | 'cancelled' | 'expired' | 'failed'>;

export interface CloseTicketInput {
  ticket: number;
  state: ClosedState;
  actor: Actor;
  reason: string;
  /** Only a ticket of this site may be closed (a site cancels only its own tickets). */
  site?: string;
  /** Only close when the ticket is in one of these states (timers use it to avoid races). */
  onlyFrom?: readonly TicketState[];
}

/**
 * Closes one ticket. Returns false when `onlyFrom` no longer matches (someone else closed it first);
 * throws TICKET_UNKNOWN / TICKET_STATE for an operator's or site's mistaken request.
 */
export async function closeTicket(ctx: CenterContext, input: CloseTicketInput): Promise<boolean> {
  const key = await recordKey(ctx.db, ctx.now);
  return transact(ctx, async (trx, changes) => {
    const ticket = await trx.selectFrom('tickets').select(['number', 'site', 'state', 'hub']).where('number', '=', input.ticket).executeTakeFirst();
    if (ticket === undefined || (input.site !== undefined && ticket.site !== input.site)) {
      throw new KeyholeError('TICKET_UNKNOWN', `there is no ticket ${input.ticket}${input.site === undefined ? '' : ` for site ${input.site}`}`);
    }
    // Lock the site first, as opening does, then read the state again under the lock.
    await lockable(ctx, trx.selectFrom('sites').select('id').where('id', '=', ticket.site)).executeTakeFirst();
    const current = await trx.selectFrom('tickets').select('state').where('number', '=', input.ticket).executeTakeFirstOrThrow();
    const state = current.state as TicketState;
    if (input.onlyFrom !== undefined && !input.onlyFrom.includes(state)) return false;
    if (!isOpenState(state)) {
      throw new KeyholeError('TICKET_STATE', `ticket ${input.ticket} is already ${state}`);
    }
    const now = ctx.now();
    await trx.updateTable('tickets').set({ state: input.state, ended_at: now, updated_at: now, end_reason: input.reason }).where('number', '=', input.ticket).execute();
    await audit(trx, now, { actor: input.actor, action: `ticket.${input.state}`, subject: `ticket:${input.ticket}`, detail: { site: ticket.site, from: state, reason: input.reason } });
    await releaseUnneeded(ctx, trx, ticket.site, input.actor, changes);
    await writeJobRecord(trx, input.ticket, key, now);
    changes.tickets.add(input.ticket);
    changes.ticketEvents.push({ kind: 'closed', ticket: input.ticket, site: ticket.site, state: input.state, reason: input.reason });
    return true;
  });
}

/**
 * Releases whatever of `site` no open ticket needs any more: device leases, and when no ticket is
 * left, the `gateway` lease and the slot. Released things wait in `releasing` for the hub's confirmation.
 */
export async function releaseUnneeded(ctx: CenterContext, trx: Tx, site: string, actor: Actor, changes: Changes): Promise<void> {
  const now = ctx.now();
  const needed = await trx.selectFrom('ticket_devices')
    .innerJoin('tickets', 'tickets.number', 'ticket_devices.ticket')
    .select('ticket_devices.device')
    .where('tickets.site', '=', site)
    .where('tickets.state', 'in', OPEN_STATES)
    .execute();
  const neededDevices = new Set(needed.map((r) => r.device));
  const openCount = await trx.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('site', '=', site).where('state', 'in', OPEN_STATES).executeTakeFirstOrThrow();
  const tunnelNeeded = Number(openCount.n) > 0;
  const active = await trx.selectFrom('leases').select(['id', 'device', 'address', 'hub']).where('site', '=', site).where('state', '=', 'active').execute();
  const release = active.filter((l) => l.device === GATEWAY_DEVICE ? !tunnelNeeded : !neededDevices.has(l.device));
  const slot = await trx.selectFrom('slots').select(['hub', 'state']).where('site', '=', site).executeTakeFirst();
  const releaseSlot = !tunnelNeeded && slot !== undefined && slot.state === 'active';
  await bumpSite(trx, site);
  changes.sites.add(site);
  const hubs = new Set(release.map((l) => l.hub));
  if (slot !== undefined) hubs.add(slot.hub);
  const events: AuditEntry[] = [];
  // Normally one hub (a site's active leases live on its slot's hub); by name if ever more, one order for all.
  for (const hub of [...hubs].sort()) {
    const hubRevision = await bumpHub(trx, hub);
    changes.hubs.add(hub);
    const mine = release.filter((l) => l.hub === hub);
    if (mine.length > 0) {
      const released = await trx.updateTable('leases').set({ state: 'releasing', released_revision: hubRevision })
        .where('id', 'in', mine.map((l) => l.id)).where('state', '=', 'active').returning('id').execute();
      const ids = new Set(released.map((r) => Number(r.id)));
      for (const l of mine) {
        if (ids.has(Number(l.id))) events.push({ actor, action: 'lease.releasing', subject: `lease:${l.address}`, detail: { site, device: l.device, hub, hubRevision } });
      }
    }
    if (releaseSlot && slot.hub === hub) {
      const released = await trx.updateTable('slots').set({ state: 'releasing', released_revision: hubRevision })
        .where('site', '=', site).where('hub', '=', hub).where('state', '=', 'active').executeTakeFirst();
      if (Number(released.numUpdatedRows) === 1) events.push({ actor, action: 'slot.releasing', subject: `site:${site}`, detail: { hub, hubRevision } });
    }
  }
  await audit(trx, now, events);
}
