// Retiring a site: revoke (tickets end, leases and slot released, credentials dead), delete (its rows go), approve (it may enroll again).
import { randomBytes } from 'node:crypto';
import { KeyholeError } from '../../protocol/errors.ts';
import { OPEN_STATES } from '../../protocol/schemas/common.ts';
import type { EnrollTokenIssued } from '../../protocol/schemas/enroll-api.ts';
import { audit, type AuditEntry } from '../audit.ts';
import type { Actor, CenterContext, Tx } from '../context.ts';
import { recordKey } from '../record-key.ts';
import { releaseUnneeded } from '../tickets/close-ticket.ts';
import { writeJobRecord } from '../tickets/job-record.ts';
import { lockable, transact } from '../transaction.ts';
import { revocationOf, storeEnrollToken } from './enroll-tokens.ts';

/** The end reason of the tickets a revocation ends. */
export const REVOKED_REASON = 'revoked';

export interface Revoked { site: string; ticketsEnded: number[] }

async function lockSite(ctx: CenterContext, trx: Tx, site: string): Promise<{ id: string; last_seen_at: number | null }> {
  const row = await lockable(ctx, trx.selectFrom('sites').select(['id', 'last_seen_at']).where('id', '=', site)).executeTakeFirst();
  if (row === undefined) throw new KeyholeError('NOT_FOUND', `there is no site ${site}`);
  return row;
}

/**
 * Revokes `site` in one transaction: every open ticket ends (reason `revoked`), its leases and slot go
 * through the normal release path (releasing until the hub confirms), its secret is replaced by one
 * nobody holds, its one-time tokens go, and the revocation row makes every replica refuse its signed
 * calls and enrollments (SITE_REVOKED) until an admin approves it. The site's last desired state (no
 * tunnel, no leases) reaches its watch stream, which then ends.
 */
export async function revokeSite(ctx: CenterContext, site: string, actor: Actor, reason: string | null): Promise<Revoked> {
  const key = await recordKey(ctx.db, ctx.now);
  return transact(ctx, async (trx, changes) => {
    await lockSite(ctx, trx, site);
    if (await revocationOf(trx, site) !== undefined) throw new KeyholeError('SITE_STATE', `site ${site} is revoked already`);
    const now = ctx.now();
    const ended = await trx.updateTable('tickets').set({ state: 'ended', ended_at: now, updated_at: now, end_reason: REVOKED_REASON })
      .where('site', '=', site).where('state', 'in', OPEN_STATES).returning(['number']).execute();
    const numbers = ended.map((t) => Number(t.number)).sort((a, b) => a - b);
    const events: AuditEntry[] = numbers.map((ticket) => ({ actor, action: 'ticket.ended', subject: `ticket:${ticket}`, detail: { site, reason: REVOKED_REASON } }));
    await audit(trx, now, events);
    for (const ticket of numbers) {
      await writeJobRecord(trx, ticket, key, now);
      changes.tickets.add(ticket);
      changes.ticketEvents.push({ kind: 'closed', ticket, site, state: 'ended', reason: REVOKED_REASON });
    }
    await releaseUnneeded(ctx, trx, site, actor, changes);
    await trx.updateTable('sites').set({ secret: randomBytes(32).toString('base64'), psk: randomBytes(32).toString('base64') }).where('id', '=', site).execute();
    await trx.deleteFrom('enroll_tokens').where('site', '=', site).execute();
    await trx.insertInto('site_revocations').values({ site, revoked_at: now, revoked_by: actor, reason }).execute();
    await audit(trx, now, { actor, action: 'site.revoked', subject: `site:${site}`, detail: { ticketsEnded: numbers, reason, severity: 'alert' } });
    changes.pool = true;
    return { site, ticketsEnded: numbers };
  });
}

/**
 * Deletes `site`'s rows (its tickets, their devices, its faults, tokens, nonces) when it is revoked or
 * never made a signed call, and holds no slot or lease (a releasing one waits for its hub's confirmation).
 * The audit trail keeps its history; a revocation stays until an admin approves the id.
 */
export async function deleteSite(ctx: CenterContext, site: string, actor: Actor): Promise<{ site: string; ticketsRemoved: number }> {
  return transact(ctx, async (trx, changes) => {
    const row = await lockSite(ctx, trx, site);
    const revoked = await revocationOf(trx, site) !== undefined;
    if (!revoked && row.last_seen_at !== null) {
      throw new KeyholeError('SITE_STATE', `site ${site} is active; revoke it first (keyhole sites revoke ${site})`);
    }
    const open = await trx.selectFrom('tickets').select('number').where('site', '=', site).where('state', 'in', OPEN_STATES).executeTakeFirst();
    if (open !== undefined) throw new KeyholeError('SITE_STATE', `site ${site} holds open ticket ${Number(open.number)}; revoke it first`);
    const slot = await trx.selectFrom('slots').select('hub').where('site', '=', site).executeTakeFirst();
    const lease = await trx.selectFrom('leases').select('address').where('site', '=', site).executeTakeFirst();
    if (slot !== undefined || lease !== undefined) {
      throw new KeyholeError('SITE_STATE', `site ${site}'s ${slot === undefined ? `lease ${lease?.address}` : `slot on hub ${slot.hub}`} is still being released; try again once its hub confirmed`);
    }
    const now = ctx.now();
    const tickets = await trx.deleteFrom('tickets').where('site', '=', site).executeTakeFirst();
    await trx.deleteFrom('enroll_tokens').where('site', '=', site).execute();
    await trx.deleteFrom('sites').where('id', '=', site).execute();
    const ticketsRemoved = Number(tickets.numDeletedRows);
    await audit(trx, now, { actor, action: 'site.deleted', subject: `site:${site}`, detail: { revoked, ticketsRemoved } });
    changes.sites.add(site);
    return { site, ticketsRemoved };
  });
}

/**
 * An admin's approval of a revoked id: the revocation goes and a one-time token is issued (answered once,
 * kept as its hash) — `reset` when the site's row is still there, `enroll` when it was deleted. The site
 * comes back only by enrolling with that token (`--enroll-token-file`): its old secret was destroyed.
 */
export async function approveSite(ctx: CenterContext, site: string, ttlMs: number, actor: Actor): Promise<EnrollTokenIssued> {
  const token = randomBytes(32).toString('base64url');
  return transact(ctx, async (trx) => {
    const existing = await lockable(ctx, trx.selectFrom('sites').select('id').where('id', '=', site)).executeTakeFirst();
    const revocation = await revocationOf(trx, site);
    if (revocation === undefined) {
      throw new KeyholeError(existing === undefined ? 'NOT_FOUND' : 'SITE_STATE', existing === undefined ? `there is no revoked site ${site}` : `site ${site} is not revoked`);
    }
    const now = ctx.now();
    await trx.deleteFrom('site_revocations').where('site', '=', site).execute();
    const purpose = existing === undefined ? 'enroll' : 'reset';
    await audit(trx, now, { actor, action: 'site.approved', subject: `site:${site}`, detail: { revokedAt: Number(revocation.revoked_at), purpose } });
    const expiresAt = await storeEnrollToken(trx, { site, purpose, token, ttlMs, actor, now });
    return { site, purpose, token, expiresAt };
  });
}
