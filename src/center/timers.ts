// The center's clock-driven work: tickets whose tunnel never came up fail, tickets near their deadline are warned, past it expire, stale sites expire.
import { formatDuration } from '../base/duration.ts';
import type { CenterContext } from './context.ts';
import { closeTicket, type ClosedState } from './tickets/close-ticket.ts';
import { dueWarnings, warnTicket } from './tickets/time-limit.ts';
import { expireSites } from './writes/site-expiry.ts';
import type { TicketState } from '../protocol/schemas/common.ts';

interface Due { ticket: number; state: ClosedState; from: TicketState[]; reason: string }

/** The tickets a sweep at `now` must close, and why. */
export async function dueTickets(ctx: CenterContext, now: number): Promise<Due[]> {
  const { readyTimeoutMs, waitingTtlMs, ticketTtlMs } = ctx.config;
  const due: Due[] = [];
  const neverUp = await ctx.db.selectFrom('tickets').select('number').where('state', '=', 'waiting').where('created_at', '<', now - readyTimeoutMs).execute();
  for (const t of neverUp) due.push({ ticket: Number(t.number), state: 'failed', from: ['waiting'], reason: `the tunnel did not come up within ${formatDuration(readyTimeoutMs)}` });
  const unstarted = await ctx.db.selectFrom('tickets').select('number').where('state', '=', 'ready').where('created_at', '<', now - waitingTtlMs).execute();
  for (const t of unstarted) due.push({ ticket: Number(t.number), state: 'expired', from: ['ready'], reason: `not started within ${formatDuration(waitingTtlMs)}` });
  // At the deadline, not before; a ticket started before deadlines existed keeps the old rule (`ticketTtl` after start).
  const overtime = await ctx.db.selectFrom('tickets').select(['number', 'time_limit_ms', 'started_at', 'deadline_at']).where('state', '=', 'in_progress')
    .where((eb) => eb.or([eb('deadline_at', '<=', now), eb.and([eb('deadline_at', 'is', null), eb('started_at', '<', now - ticketTtlMs)])])).execute();
  for (const t of overtime) {
    const ranMs = t.deadline_at === null || t.started_at === null ? ticketTtlMs : Number(t.deadline_at) - Number(t.started_at);
    due.push({ ticket: Number(t.number), state: 'expired', from: ['in_progress'], reason: `work reached its time limit of ${formatDuration(ranMs)}` });
  }
  return due;
}

/** One sweep: closes what is due (another replica may win the race; that is fine). */
export async function sweep(ctx: CenterContext): Promise<number> {
  const now = ctx.now();
  let closed = 0;
  for (const due of await dueTickets(ctx, now)) {
    if (await closeTicket(ctx, { ticket: due.ticket, state: due.state, actor: 'center', reason: due.reason, onlyFrom: due.from })) closed++;
  }
  for (const ticket of await dueWarnings(ctx, now)) await warnTicket(ctx, ticket);
  await expireSites(ctx, now);
  return closed;
}

/** Runs `sweep` every `intervalMs` until the signal aborts. */
export function startTimers(ctx: CenterContext, intervalMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let running: Promise<unknown> | null = null;
    const timer = setInterval(() => {
      if (running !== null) return; // the last sweep is still going: skip a beat rather than pile up
      running = sweep(ctx)
        .catch((err: unknown) => ctx.log.error({ err }, 'timer sweep failed'))
        .finally(() => { running = null; });
    }, intervalMs);
    signal.addEventListener('abort', () => {
      clearInterval(timer);
      void (running ?? Promise.resolve()).then(() => resolve());
    }, { once: true });
  });
}
