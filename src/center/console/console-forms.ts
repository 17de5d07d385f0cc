// The console's inputs as TypeBox schemas: query strings of the pages and the bodies of its forms (all strings on the wire).
import Type from 'typebox';
import { RowId } from '../../protocol/schemas/common.ts';

/** Empty (the field left blank) or a site id. */
const SiteFilter = Type.String({ pattern: '^([a-z0-9][a-z0-9._-]{0,62})?$', maxLength: 63 });
const Csrf = Type.String({ maxLength: 100 });
/** Where to go after a form: a console path (checked again by `safeReturn`). */
const ReturnTo = Type.String({ maxLength: 2000 });

export const QueueQuery = Type.Object({
  state: Type.Optional(Type.Union(['open', 'all', 'closed', 'waiting', 'ready', 'in_progress', 'ended', 'cancelled', 'expired', 'failed'].map((s) => Type.Literal(s)))),
  site: Type.Optional(SiteFilter),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
});
export type QueueQuery = Type.Static<typeof QueueQuery>;

export const TicketParams = Type.Object({ ticket: RowId });

export const AuditPageQuery = Type.Object({
  before: Type.Optional(RowId),
  subject: Type.Optional(Type.String({ maxLength: 100 })),
});

/** The sites and hubs pages: one page after the name `after` (the pager's cursor). */
export const FleetNameQuery = Type.Object({ after: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', maxLength: 63 })) });

/** The faults page: one page of fault ids below `before` (the pager's cursor). */
export const FaultsPageQuery = Type.Object({ before: Type.Optional(RowId) });

export const PoolQuery = Type.Object({
  range: Type.Optional(Type.Union([Type.Literal('1h'), Type.Literal('24h'), Type.Literal('7d'), Type.Literal('30d')])),
});

export const LoginQuery = Type.Object({ next: Type.Optional(ReturnTo) });

export const LoginForm = Type.Object({
  _csrf: Csrf,
  name: Type.String({ maxLength: 100 }),
  password: Type.String({ maxLength: 1024 }),
  next: Type.Optional(ReturnTo),
});

export const ActionForm = Type.Object({
  _csrf: Csrf,
  return: Type.Optional(ReturnTo),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
});

export const LogoutForm = Type.Object({ _csrf: Csrf });

/** A path inside the console to go back to, or the fallback: never another site, never a protocol-relative URL. */
export function safeReturn(value: string | undefined, fallback = '/console/'): string {
  if (value === undefined || !value.startsWith('/console/') || value.includes('//') || value.includes('\\') || /[\u0000-\u001f]/.test(value)) return fallback;
  return value;
}
