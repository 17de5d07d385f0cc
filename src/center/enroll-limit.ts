// Enrollment rate limits per client address and fleet-wide, in the store so every replica shares them.
import { sql } from 'kysely';
import { KeyholeError } from '../protocol/errors.ts';
import type { CenterContext } from './context.ts';
import { enrollPolicy } from './enroll-policy.ts';

/**
 * Counts one attempt in `key`'s fixed window and returns the count including it. One upsert: the read
 * and the increment are a single atomic statement on SQLite and PostgreSQL, so concurrent attempts
 * can never all see room that is left only once.
 */
async function bump(ctx: CenterContext, key: string, now: number, windowMs: number): Promise<number> {
  const stale = now - windowMs;
  const row = await ctx.db.insertInto('enroll_limits').values({ key, window_start: now, count: 1 })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      count: sql<number>`CASE WHEN enroll_limits.window_start <= CAST(${stale} AS bigint) THEN 1 ELSE enroll_limits.count + 1 END`,
      window_start: sql<number>`CASE WHEN enroll_limits.window_start <= CAST(${stale} AS bigint) THEN CAST(${now} AS bigint) ELSE enroll_limits.window_start END`,
    }))
    .returning('count').executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Reserves one enrollment attempt from `address` before any signature is checked or key sealed. An
 * address over its limit is refused without spending the fleet's budget.
 */
export async function reserveEnrollAttempt(ctx: CenterContext, address: string): Promise<void> {
  const { perAddress, fleet, windowMs } = enrollPolicy(ctx.config).rate;
  const now = ctx.now();
  if (await bump(ctx, `addr:${address}`, now, windowMs) > perAddress) {
    throw new KeyholeError('RATE_LIMITED', `too many enrollment attempts from ${address}; try again in ${Math.ceil(windowMs / 1000)}s`);
  }
  if (await bump(ctx, 'fleet', now, windowMs) > fleet) {
    throw new KeyholeError('RATE_LIMITED', `too many enrollment attempts across the fleet; try again in ${Math.ceil(windowMs / 1000)}s`);
  }
}

/** Forgets windows that ended (the timer loop). */
export async function purgeEnrollLimits(ctx: CenterContext, now: number): Promise<void> {
  await ctx.db.deleteFrom('enroll_limits').where('window_start', '<', now - enrollPolicy(ctx.config).rate.windowMs).execute();
}
