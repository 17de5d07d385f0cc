// A ticket's time limit: the center's bounds, the user's choice checked against them, the deadline math, and the one warning before the deadline.
import { formatDuration } from '../../base/duration.ts';
import { InputError } from '../../protocol/errors.ts';
import { audit } from '../audit.ts';
import type { CenterConfig, CenterContext } from '../context.ts';
import { bumpSite, transact } from '../transaction.ts';

export interface TimeBounds {
  /** The limit when the user names none. */
  defaultMs: number;
  minMs: number;
  /** The longest limit, and the cap of any extension (`--ticket-ttl`): no started ticket runs longer. */
  maxMs: number;
  warnBeforeMs: number;
}

/** The defaults of `--ticket-time`, `--ticket-time-min`, `--ticket-warn-before` (config/schema-center.ts says the same). */
export const TIME_DEFAULTS = { defaultMs: 2 * 3_600_000, minMs: 15 * 60_000, warnBeforeMs: 10 * 60_000 } as const;

/** The center's bounds; a default above `ticketTtl` (a config that names only the ttl) is brought down to it. */
export function timeBounds(config: CenterConfig): TimeBounds {
  const maxMs = config.ticketTtlMs;
  const set = config.ticketTime ?? TIME_DEFAULTS;
  const defaultMs = Math.min(set.defaultMs, maxMs);
  return { defaultMs, minMs: Math.min(set.minMs, defaultMs), maxMs, warnBeforeMs: set.warnBeforeMs };
}

/** The user's time limit, or the default; outside the bounds: a 400 that names them. */
export function checkTimeLimit(bounds: TimeBounds, requested: number | undefined): number {
  if (requested === undefined) return bounds.defaultMs;
  if (!Number.isSafeInteger(requested) || requested < bounds.minMs || requested > bounds.maxMs) {
    const asked = Number.isSafeInteger(requested) && requested > 0 ? formatDuration(requested) : String(requested);
    throw new InputError(`a time limit of ${asked} is outside this center's bounds: between ${formatDuration(bounds.minMs)} and ${formatDuration(bounds.maxMs)}`, { field: 'timeLimitMs' });
  }
  return requested;
}

/** Where an accepted extension moves the deadline: later by `extendMs`, never past start + the longest limit. */
export function extendedDeadline(bounds: TimeBounds, ticket: { startedAt: number; deadlineAt: number }, extendMs: number): number {
  return Math.min(ticket.deadlineAt + extendMs, ticket.startedAt + bounds.maxMs);
}

/** When the warning is due: `warnBeforeMs` before the deadline (at start already when the limit is shorter than that). */
export function warnAt(bounds: TimeBounds, deadlineAt: number): number {
  return deadlineAt - bounds.warnBeforeMs;
}

/** Started tickets whose warning is due at `now`, not given yet, and whose deadline has not passed. */
export async function dueWarnings(ctx: CenterContext, now: number): Promise<number[]> {
  const bounds = timeBounds(ctx.config);
  const rows = await ctx.db.selectFrom('tickets').select('number').where('state', '=', 'in_progress').where('warned_at', 'is', null)
    .where('deadline_at', 'is not', null).where('deadline_at', '<=', now + bounds.warnBeforeMs).where('deadline_at', '>', now).execute();
  return rows.map((r) => Number(r.number));
}

/**
 * Records the warning of one ticket: `warned_at` goes from null to now (compare-and-set, so two replicas
 * sweeping at once warn once), with its audit event (and so its webhook) in the same transaction. False: already warned or gone.
 */
export async function warnTicket(ctx: CenterContext, ticket: number): Promise<boolean> {
  const bounds = timeBounds(ctx.config);
  return transact(ctx, async (trx, changes) => {
    const row = await trx.selectFrom('tickets').select(['site', 'deadline_at']).where('number', '=', ticket).executeTakeFirst();
    if (row?.deadline_at === null || row === undefined) return false;
    const now = ctx.now();
    await bumpSite(trx, row.site); // the site's row before its ticket: the lock order every transaction keeps; the help page hears of it
    const updated = await trx.updateTable('tickets').set({ warned_at: now }).where('number', '=', ticket).where('state', '=', 'in_progress')
      .where('warned_at', 'is', null).where('deadline_at', '<=', now + bounds.warnBeforeMs).where('deadline_at', '>', now).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new RollbackQuietly();
    const deadlineAt = Number(row.deadline_at);
    await audit(trx, now, { actor: 'center', action: 'ticket.warned', subject: `ticket:${ticket}`, detail: { site: row.site, deadlineAt, remainingMs: deadlineAt - now } });
    changes.sites.add(row.site);
    changes.tickets.add(ticket);
    return true;
  }).catch((error: unknown) => {
    if (error instanceof RollbackQuietly) return false;
    throw error;
  });
}

/** Undoes the site bump of a warning another replica gave first. */
class RollbackQuietly extends Error {}
