// Writes the site's job record when one of its tickets ends: what the center says of it, plus every connection the site's tracking saw.
import type { Logger } from 'pino';
import { isOpenState, type TicketState } from '../../protocol/schemas/common.ts';
import { recordTime } from '../../protocol/record-time.ts';
import { JOB_RECORD_VERSION, type JobRecord, type RecordConnection } from '../../protocol/schemas/job-record.ts';
import type { SiteTicket } from '../../protocol/schemas/site-api.ts';
import type { SeenConnection } from './connections.ts';
import type { JobRecords } from './record-store.ts';

/** The site's record of closed ticket `t` (its request as the center recorded it; an older center's lacks it). */
export function siteJobRecord(site: string, t: SiteTicket, connections: readonly SeenConnection[], now: number): JobRecord {
  const asks = t.asks ?? [];
  const askers = [...asks, ...(t.extensions ?? [])].sort((a, b) => a.askedAt - b.askedAt).map((a) => a.askedBy);
  const operators = [...new Set([...(t.startedBy === null || t.startedBy === undefined ? [] : [t.startedBy]), ...askers])];
  return {
    version: JOB_RECORD_VERSION, writer: 'site', site, ticket: t.ticket,
    request: {
      requester: t.request?.requester ?? '', level: t.request?.level ?? 'user', urgency: t.request?.urgency ?? 'normal',
      phone: t.request?.phone ?? null, description: t.request?.description ?? null, devices: t.leases.map((l) => l.device), at: t.createdAt,
    },
    consent: {
      access: t.leases.map((l) => ({ device: l.device, services: l.services ?? 'all' })),
      asks: asks.map((a) => ({ device: a.device, services: a.services, state: a.state, askedBy: a.askedBy, askedAt: a.askedAt, answeredAt: a.answeredAt })),
      ...recordTime(t),
    },
    operators, startedBy: t.startedBy ?? null, startedAt: t.startedAt ?? null,
    events: [
      ...(t.startedAt === null || t.startedAt === undefined ? [] : [{ at: t.startedAt, actor: t.startedBy ?? 'operator', action: 'ticket.started' }]),
      ...asks.map((a) => ({ at: a.askedAt, actor: a.askedBy, action: 'ticket.asked' })),
    ].sort((a, b) => a.at - b.at),
    connections: connections.slice(0, 5000).map((c) => ({
      at: c.at, device: c.device, address: c.address, port: c.port, protocol: c.protocol,
      toDevice: c.bytes?.toDevice ?? null, fromDevice: c.bytes?.fromDevice ?? null, ended: c.ended === true,
    })),
    end: { state: t.state, at: t.endedAt ?? t.updatedAt, reason: t.endReason ?? null },
    writtenAt: now,
  };
}

export interface RecorderOptions {
  site: () => string;
  records: JobRecords;
  ticket: (ticket: number, signal: AbortSignal) => Promise<SiteTicket>;
  connections: (devices: string[], from: number, to: number) => SeenConnection[];
  log: Logger;
  signal: AbortSignal;
  now?: () => number;
  /** Sends a written record's connections to the center for its copy (connection-report.ts: retries, never throws). */
  report?: (ticket: number, connections: readonly RecordConnection[]) => Promise<unknown>;
}

/** Follows the open tickets; one that leaves them is fetched once and recorded (a failed fetch is tried at the next change). */
export class JobRecorder {
  readonly #o: RecorderOptions;
  #open = new Set<number>();
  readonly #pending = new Set<number>();
  /** Tickets being fetched and written now: a change meanwhile (updates overlap) does not record one twice. */
  readonly #recording = new Set<number>();

  constructor(options: RecorderOptions) {
    this.#o = options;
  }

  /** Called with the open tickets after each desired state. */
  async update(open: readonly { ticket: number; state: TicketState }[]): Promise<void> {
    const now = new Set(open.map((t) => t.ticket));
    for (const ticket of this.#open) if (!now.has(ticket)) this.#pending.add(ticket);
    this.#open = now;
    for (const ticket of [...this.#pending]) await this.record(ticket);
  }

  /** Records `ticket` if it is closed, has no record yet and is not being recorded. */
  async record(ticket: number): Promise<void> {
    if (this.#recording.has(ticket)) return;
    if (this.#o.records.has(ticket)) { this.#pending.delete(ticket); return; }
    this.#recording.add(ticket);
    try {
      const t = await this.#o.ticket(ticket, this.#o.signal);
      if (isOpenState(t.state)) return;
      const devices = t.leases.map((l) => l.device);
      const now = (this.#o.now ?? Date.now)();
      const record = siteJobRecord(this.#o.site(), t, this.#o.connections(devices, t.createdAt, t.endedAt ?? t.updatedAt), now);
      this.#o.records.write(record);
      this.#pending.delete(ticket);
      this.#o.log.info({ ticket }, 'job record written');
      // In the background: the next tickets are recorded while the center is retried.
      if (this.#o.report !== undefined && record.connections !== null) void this.#o.report(ticket, record.connections).catch(() => undefined);
    } catch (err) {
      this.#o.log.warn({ err, ticket }, 'cannot write the job record yet; trying again at the next change');
    } finally {
      this.#recording.delete(ticket);
    }
  }
}
