// Webhook endpoints (added, listed, removed: `keyhole center webhooks`) and the delivery log the console and the CLI show.
import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { KeyholeError } from '../protocol/errors.ts';
import type { Database } from '../store/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The events a webhook can ask for; `*` is all of them. */
export const WEBHOOK_EVENTS = [
  'ticket.opened', 'ticket.ready', 'ticket.started', 'ticket.ended', 'ticket.cancelled', 'ticket.expired', 'ticket.failed',
  'ticket.warned', 'ticket.extension.asked', 'ticket.extension.accepted', 'ticket.extension.refused',
] as const;
export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookView { id: number; url: string; events: string[]; createdAt: number; removedAt: number | null }
export interface DeliveryView {
  id: number; webhook: number; event: string; state: DeliveryState; attempts: number; nextAt: number;
  lastStatus: number | null; lastError: string | null; createdAt: number; deliveredAt: number | null;
}

/** Checks a webhook URL: http or https, a host, no credentials in it (they would be stored and logged with it). */
export function checkWebhookUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new KeyholeError('BAD_REQUEST', `webhook URL '${text.slice(0, 200)}' is not a URL`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new KeyholeError('BAD_REQUEST', `webhook URL must be http or https, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new KeyholeError('BAD_REQUEST', 'webhook URL must not carry credentials: the signature authenticates the center');
  if (text.length > 2000) throw new KeyholeError('BAD_REQUEST', 'webhook URL is longer than 2000 characters');
  return url.toString();
}

function checkEvents(events: readonly string[]): string[] {
  if (events.length === 0) return ['*'];
  for (const event of events) {
    if (event !== '*' && !(WEBHOOK_EVENTS as readonly string[]).includes(event)) {
      throw new KeyholeError('BAD_REQUEST', `unknown webhook event '${event.slice(0, 60)}' (known: ${WEBHOOK_EVENTS.join(', ')}, or *)`);
    }
  }
  return [...new Set(events)];
}

/** Adds an endpoint; its secret is made here and returned once (the caller shows it to the operator). */
export async function addWebhook(db: Db, input: { url: string; events: readonly string[] }, now: number): Promise<{ id: number; secret: string }> {
  const url = checkWebhookUrl(input.url);
  const events = checkEvents(input.events);
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  const row = await db.insertInto('webhooks').values({ url, secret, events: JSON.stringify(events), created_at: now, removed_at: null })
    .returning('id').executeTakeFirstOrThrow();
  return { id: Number(row.id), secret };
}

export async function listWebhooks(db: Db): Promise<WebhookView[]> {
  const rows = await db.selectFrom('webhooks').select(['id', 'url', 'events', 'created_at', 'removed_at']).orderBy('id').execute();
  return rows.map((r) => ({ id: Number(r.id), url: r.url, events: parseEvents(r.events), createdAt: r.created_at, removedAt: r.removed_at }));
}

/** Removes an endpoint: nothing more is queued for it, and what was pending is marked failed. False when no live one has that id. */
export async function removeWebhook(db: Kysely<Database>, id: number, now: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.updateTable('webhooks').set({ removed_at: now }).where('id', '=', id).where('removed_at', 'is', null).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await trx.updateTable('webhook_deliveries').set({ state: 'failed', last_error: 'the endpoint was removed' })
      .where('webhook', '=', id).where('state', '=', 'pending').execute();
    return true;
  });
}

export function parseEvents(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((e): e is string => typeof e === 'string') : [];
  } catch {
    return [];
  }
}

/** The newest deliveries first (the console's and the CLI's delivery log). */
export async function listDeliveries(db: Db, limit: number): Promise<DeliveryView[]> {
  const rows = await db.selectFrom('webhook_deliveries')
    .select(['id', 'webhook', 'event', 'state', 'attempts', 'next_at', 'last_status', 'last_error', 'created_at', 'delivered_at'])
    .orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: Number(r.id), webhook: Number(r.webhook), event: r.event, state: r.state as DeliveryState, attempts: Number(r.attempts), nextAt: r.next_at,
    lastStatus: r.last_status, lastError: r.last_error, createdAt: r.created_at, deliveredAt: r.delivered_at,
  }));
}
