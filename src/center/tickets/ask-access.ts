// Operators' asks for more access (another service, another device) and the site user's answer: an ask is inert until accepted.
import { InputError, KeyholeError } from '../../protocol/errors.ts';
import { GATEWAY_DEVICE, isOpenState, type TicketState } from '../../protocol/schemas/common.ts';
import type { AskRequest } from '../../protocol/schemas/operator-api.ts';
import type { ServiceSpec } from '../../protocol/schemas/services.ts';
import { checkServiceSpec, coversServices, mergeServices } from '../../protocol/services.ts';
import { audit } from '../audit.ts';
import { askedServicesOf, servicesColumn, servicesOf } from '../service-columns.ts';
import type { Actor, CenterContext, Tx } from '../context.ts';
import { bumpHub, bumpSite, lockable, transact } from '../transaction.ts';
import { leaseDevices } from './leases.ts';

/** Pending asks one ticket may hold at once: enough for any job, few enough that the help page stays readable. */
export const MAX_PENDING_ASKS = 8;

/** The open ticket, read again under its site's lock (the lock order every transaction keeps: site, ticket, hub). */
export async function lockOpenTicket(ctx: CenterContext, trx: Tx, ticket: number, site?: string): Promise<{ site: string; level: string; hub: string | null }> {
  const row = await trx.selectFrom('tickets').select(['site']).where('number', '=', ticket).executeTakeFirst();
  if (row === undefined || (site !== undefined && row.site !== site)) {
    throw new KeyholeError('TICKET_UNKNOWN', `there is no ticket ${ticket}${site === undefined ? '' : ` for site ${site}`}`);
  }
  await lockable(ctx, trx.selectFrom('sites').select('id').where('id', '=', row.site)).executeTakeFirst();
  const current = await trx.selectFrom('tickets').select(['site', 'state', 'level', 'hub']).where('number', '=', ticket).executeTakeFirstOrThrow();
  if (!isOpenState(current.state as TicketState)) throw new KeyholeError('TICKET_STATE', `ticket ${ticket} is ${current.state}: nothing more can be asked or accepted`);
  return current;
}

async function deviceServices(trx: Tx, ticket: number, device: string): Promise<ServiceSpec | null> {
  const row = await trx.selectFrom('ticket_devices').select('services').where('ticket', '=', ticket).where('device', '=', device).executeTakeFirst();
  if (row === undefined) return null;
  return servicesOf(row.services);
}

/** An operator asks the ticket's user for `services` on `device`; nothing opens until the user accepts on the help page. */
export async function askAccess(ctx: CenterContext, ticket: number, ask: AskRequest, actor: Actor): Promise<number> {
  const device = ask.device.toLowerCase();
  const services = checkServiceSpec(ask.services);
  return transact(ctx, async (trx, changes) => {
    const row = await lockOpenTicket(ctx, trx, ticket);
    if (device === GATEWAY_DEVICE && row.level !== 'admin') {
      throw new KeyholeError('LEVEL_FORBIDDEN', `the device '${GATEWAY_DEVICE}' can be opened only on a ticket of level admin`, { field: 'device' });
    }
    const held = await deviceServices(trx, ticket, device);
    if (held !== null && coversServices(held, services)) throw new InputError(`${device} already admits that on ticket ${ticket}`, { field: 'services' });
    const pending = await trx.selectFrom('ticket_asks').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('ticket', '=', ticket).where('state', '=', 'pending').executeTakeFirstOrThrow();
    if (Number(pending.n) >= MAX_PENDING_ASKS) throw new KeyholeError('TICKET_STATE', `ticket ${ticket} already has ${MAX_PENDING_ASKS} asks waiting for the user`);
    const now = ctx.now();
    await bumpSite(trx, row.site); // the help page hears of the ask through the site's desired state
    const inserted = await trx.insertInto('ticket_asks').values({
      ticket, device, services: servicesColumn(services), state: 'pending', asked_by: actor, asked_at: now, answered_at: null,
    }).returning('id').executeTakeFirstOrThrow();
    const id = Number(inserted.id);
    await audit(trx, now, { actor, action: 'ticket.asked', subject: `ticket:${ticket}`, detail: { site: row.site, ask: id, device, services } });
    changes.sites.add(row.site);
    changes.tickets.add(ticket);
    return id;
  });
}

/**
 * The site's user answers an ask. Accepting widens the ticket: the device's services grow, or a device
 * new to the ticket gets a lease (from the ticket's hub, whose revision is bumped so it routes it).
 */
export async function answerAsk(ctx: CenterContext, site: string, ticket: number, ask: number, accept: boolean): Promise<void> {
  const actor = `site:${site}`;
  await transact(ctx, async (trx, changes) => {
    const row = await lockOpenTicket(ctx, trx, ticket, site);
    const asked = await trx.selectFrom('ticket_asks').selectAll().where('id', '=', ask).where('ticket', '=', ticket).executeTakeFirst();
    if (asked === undefined) throw new KeyholeError('NOT_FOUND', `ticket ${ticket} has no ask ${ask}`);
    if (asked.state !== 'pending') throw new KeyholeError('TICKET_STATE', `ask ${ask} was already ${asked.state}`);
    const services = askedServicesOf(asked.services);
    if (services === null) throw new KeyholeError('TICKET_STATE', `ask ${ask} cannot be read any more; ask the operator to ask again`);
    const now = ctx.now();
    await bumpSite(trx, row.site);
    const state = accept ? 'accepted' : 'refused';
    const updated = await trx.updateTable('ticket_asks').set({ state, answered_at: now }).where('id', '=', ask).where('state', '=', 'pending').executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new KeyholeError('TICKET_STATE', `ask ${ask} changed meanwhile; look again`);
    if (accept) await widen(ctx, trx, { ticket, site: row.site, hub: row.hub, device: asked.device, services, actor, now }, changes.hubs);
    await audit(trx, now, { actor, action: `ticket.ask.${state}`, subject: `ticket:${ticket}`, detail: { site: row.site, ask, device: asked.device, services } });
    changes.sites.add(row.site);
    changes.tickets.add(ticket);
  });
}

interface Widening { ticket: number; site: string; hub: string | null; device: string; services: ServiceSpec; actor: Actor; now: number }

async function widen(ctx: CenterContext, trx: Tx, w: Widening, hubs: Set<string>): Promise<void> {
  const held = await deviceServices(trx, w.ticket, w.device);
  if (held !== null) {
    await trx.updateTable('ticket_devices').set({ services: servicesColumn(mergeServices([held, w.services])) })
      .where('ticket', '=', w.ticket).where('device', '=', w.device).execute();
    return;
  }
  if (w.hub === null) throw new KeyholeError('TICKET_STATE', `ticket ${w.ticket} has no hub to lease ${w.device} from`);
  const hub = await lockable(ctx, trx.selectFrom('hubs').select(['name', 'block']).where('name', '=', w.hub)).executeTakeFirstOrThrow();
  const leased = await leaseDevices(trx, { ...hub, taken: false }, w.site, [w.device], w.actor, w.now);
  await trx.insertInto('ticket_devices').values({ ticket: w.ticket, device: w.device, address: leased.get(w.device) ?? '', services: servicesColumn(w.services) }).execute();
  await bumpHub(trx, hub.name);
  hubs.add(hub.name);
}
