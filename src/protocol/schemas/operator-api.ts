// The operator API's views: tickets, sites, hubs, pool, faults and audit events, as the CLI and console read them.
import Type from 'typebox';
import {
  Address, CidrText, Count, DeviceName, Endpoint, LeaseSchema, LevelSchema, Millis, Name, PageLimit, RowId, TicketStateSchema, UrgencySchema,
} from './common.ts';
import { AccessAskSchema, DurationMillis, SiteFirewallObserved, TicketTimeFields } from './site-api.ts';
import { ServiceSpecSchema } from './services.ts';

export const TicketView = Type.Object({
  ticket: RowId,
  site: Name,
  state: TicketStateSchema,
  requester: Type.String(),
  level: LevelSchema,
  urgency: UrgencySchema,
  phone: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  /** The site's public address as the center saw it (the patent's REMOTE_ADDR). */
  publicAddress: Type.Union([Type.String(), Type.Null()]),
  hub: Type.Union([Name, Type.Null()]),
  devices: Type.Array(DeviceName),
  leases: Type.Array(LeaseSchema),
  createdAt: Millis,
  updatedAt: Millis,
  readyAt: Type.Union([Millis, Type.Null()]),
  startedAt: Type.Union([Millis, Type.Null()]),
  /** The actor that started work (`operator:NAME`), null until then. */
  startedBy: Type.Union([Type.String(), Type.Null()]),
  endedAt: Type.Union([Millis, Type.Null()]),
  endReason: Type.Union([Type.String(), Type.Null()]),
  /** A waiting ticket's path the site reports cannot pass, in plain words (absent: nothing reported blocked). */
  blocked: Type.Optional(Type.String({ maxLength: 1000 })),
  /** Operators' asks for more access and the user's answers. */
  asks: Type.Optional(Type.Array(AccessAskSchema)),
  ...TicketTimeFields,
});
export type TicketView = Type.Static<typeof TicketView>;

/** POST /v1/tickets/:ticket/asks: an operator asks the site's user for another service or device. */
export const AskRequest = Type.Object({ device: DeviceName, services: ServiceSpecSchema }, { additionalProperties: false });
export type AskRequest = Type.Static<typeof AskRequest>;

/** POST /v1/tickets/:ticket/extensions: an operator asks the site's user for more time. */
export const ExtendRequest = Type.Object({ byMs: DurationMillis }, { additionalProperties: false });
export type ExtendRequest = Type.Static<typeof ExtendRequest>;

export const TicketList = Type.Object({
  tickets: Type.Array(TicketView),
  total: Count,
  limit: Count,
  offset: Count,
});
export type TicketList = Type.Static<typeof TicketList>;

export const TicketListQuery = Type.Object({
  state: Type.Optional(Type.String({ pattern: '^(open|closed|waiting|ready|in_progress|ended|cancelled|expired|failed)(,(open|closed|waiting|ready|in_progress|ended|cancelled|expired|failed))*$' })),
  site: Type.Optional(Name),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  offset: Type.Optional(Count),
}, { additionalProperties: false });
export type TicketListQuery = Type.Static<typeof TicketListQuery>;

export const FaultView = Type.Object({
  fault: RowId,
  site: Name,
  code: Type.String(),
  detail: Type.Union([Type.String(), Type.Null()]),
  reportedAt: Millis,
  ticket: Type.Union([RowId, Type.Null()]),
  /** Reports while it was open (repeats counted, not stored). */
  count: Type.Optional(Count),
  lastSeenAt: Type.Optional(Type.Union([Millis, Type.Null()])),
  closedAt: Type.Optional(Type.Union([Millis, Type.Null()])),
  /** Why no automatic ticket answers it (the fault policy's reason, HUBS_FULL, POOL_EXHAUSTED). */
  held: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type FaultView = Type.Static<typeof FaultView>;

/** Open faults without a ticket, grouped by code: a storm is one row ("wan-down: 3,412 sites since 14:02"). */
export const IncidentView = Type.Object({
  code: Type.String(),
  sites: Count,
  /** Reports, repeats included. */
  reports: Count,
  since: Millis,
  lastSeenAt: Millis,
  /** Sites by the reason they hold no ticket. */
  held: Type.Record(Type.String(), Count),
  /** Automatic tickets open now for faults of this code. */
  ticketsOpen: Count,
});
export type IncidentView = Type.Static<typeof IncidentView>;
/** The release an agent last named (keyhole-agent header): null until it calls, and the version for agents from before version reporting. */
const AgentReleaseView = {
  agentVersion: Type.Union([Type.String({ maxLength: 40 }), Type.Null()]),
  agentProtocol: Type.Union([Count, Type.Null()]),
};

export const SiteView = Type.Object({
  site: Name,
  publicKey: Type.String(),
  lan: Type.Array(CidrText),
  publicAddress: Type.Union([Type.String(), Type.Null()]),
  enrolledAt: Millis,
  /** The site's last signed call (an idle site's check-in, every few minutes; an active one's resync). */
  lastSeenAt: Type.Union([Millis, Type.Null()]),
  /** Heard from within two check-in intervals (the center's `siteOnlineMs`, default 9.6 min). */
  online: Type.Boolean(),
  /** The site holds a watch stream to this center process now (it has work); false: idle, checking in. */
  stream: Type.Boolean(),
  hub: Type.Union([Name, Type.Null()]),
  openTickets: Count,
  handshakeAt: Type.Union([Millis, Type.Null()]),
  revision: Count,
  observedRevision: Count,
  errors: Type.Array(Type.String()),
  faults: Type.Array(FaultView),
  /** What the site last reported doing to its gateway's own firewall (absent: nothing reported). */
  firewall: Type.Optional(SiteFirewallObserved),
  /** When an admin revoked the site (`keyhole sites revoke`); null while it is in service. */
  revokedAt: Type.Union([Millis, Type.Null()]),
  ...AgentReleaseView,
});
export type SiteView = Type.Static<typeof SiteView>;

export const HubView = Type.Object({
  hub: Name,
  endpoint: Endpoint,
  block: CidrText,
  address: Address,
  capacity: Count,
  slotsUsed: Count,
  leases: Count,
  healthy: Type.Boolean(),
  lastSeenAt: Type.Union([Millis, Type.Null()]),
  revision: Count,
  observedRevision: Count,
  errors: Type.Array(Type.String()),
  /** When an admin drained the hub (`keyhole hubs drain`): it takes no new slot. Null while it is in service. */
  drainedAt: Type.Union([Millis, Type.Null()]),
  ...AgentReleaseView,
});
export type HubView = Type.Static<typeof HubView>;

export const PoolView = Type.Object({
  cidr: CidrText,
  /** Leasable addresses in the blocks of registered hubs. */
  size: Count,
  /** Addresses bound to a device now, or waiting for their hub to confirm release. */
  leased: Count,
  releasing: Count,
  hubs: Type.Array(Type.Object({ hub: Name, block: CidrText, size: Count, leased: Count })),
});
export type PoolView = Type.Static<typeof PoolView>;

export const AuditEvent = Type.Object({
  id: RowId,
  at: Millis,
  actor: Type.String(),
  action: Type.String(),
  subject: Type.String(),
  detail: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditEvent = Type.Static<typeof AuditEvent>;

/** GET /v1/sites and /v1/hubs: one page by name, after the name `after` (the next page's cursor). */
export const NamePageQuery = Type.Object({
  limit: Type.Optional(PageLimit),
  after: Type.Optional(Name),
}, { additionalProperties: false });
export type NamePageQuery = Type.Static<typeof NamePageQuery>;

/** GET /v1/faults: newest first, one page of ids below `before`, optionally of one site. */
export const FaultQuery = Type.Object({
  limit: Type.Optional(PageLimit),
  before: Type.Optional(RowId),
  site: Type.Optional(Name),
}, { additionalProperties: false });
export type FaultQuery = Type.Static<typeof FaultQuery>;

export const AuditQuery = Type.Object({
  limit: Type.Optional(PageLimit),
  before: Type.Optional(RowId),
  subject: Type.Optional(Type.String({ maxLength: 100 })),
}, { additionalProperties: false });
export type AuditQuery = Type.Static<typeof AuditQuery>;

/** POST /v1/sites/:site/revoke (admin). */
export const SiteRevokeRequest = Type.Union([
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
  Type.Null(),
]);
export type SiteRevokeRequest = Type.Static<typeof SiteRevokeRequest>;

export const SiteRevoked = Type.Object({
  site: Name,
  /** The tickets the revocation ended (reason `revoked`). */
  ticketsEnded: Type.Array(RowId),
});
export type SiteRevoked = Type.Static<typeof SiteRevoked>;
