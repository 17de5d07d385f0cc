// Read side of tickets' time: the limit, the deadline and the warning of a row, and the operators' asks for more time.
import type { TimeAsk, AskState } from '../../protocol/schemas/site-api.ts';
import type { TicketRow } from '../../store/schema.ts';
import type { Db } from '../context.ts';

/** A ticket row's time fields as the views carry them. */
export function timeFieldsOf(r: TicketRow): { timeLimitMs: number | null; deadlineAt: number | null; warnedAt: number | null } {
  const n = (v: number | null): number | null => (v === null ? null : Number(v));
  return { timeLimitMs: n(r.time_limit_ms), deadlineAt: n(r.deadline_at), warnedAt: n(r.warned_at) };
}

/** The asks for more time of these tickets, oldest first. */
export async function extensionsOf(db: Db, tickets: number[]): Promise<Map<number, TimeAsk[]>> {
  const result = new Map<number, TimeAsk[]>();
  if (tickets.length === 0) return result;
  const rows = await db.selectFrom('ticket_extensions').selectAll().where('ticket', 'in', tickets).orderBy('id').execute();
  for (const row of rows) {
    const list = result.get(Number(row.ticket)) ?? [];
    list.push({
      extension: Number(row.id), extendMs: Number(row.extend_ms), state: row.state as AskState, askedBy: row.asked_by,
      askedAt: Number(row.asked_at), answeredAt: row.answered_at === null ? null : Number(row.answered_at),
    });
    result.set(Number(row.ticket), list);
  }
  return result;
}
