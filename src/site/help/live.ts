// What the help page follows live: the open tickets in the site's desired state, pushed by the center, and a change signal.
import type { SiteDesiredState } from '../../protocol/schemas/site-api.ts';
import type { TicketState } from '../../protocol/schemas/common.ts';

export type LiveListener = () => void;

/** The time fields of a ticket in the desired state: the help page looks again when one changes. */
export interface LiveTime { deadlineAt: number | null; warned: boolean; pendingExtensions: number }

/** Updated by the site agent after each desired state it applies; read by the LAN server. */
export class SiteLive {
  #tickets = new Map<number, TicketState>();
  #pendingAsks = new Map<number, number>();
  #time = new Map<number, LiveTime>();
  #revision = -1;
  readonly #listeners = new Set<LiveListener>();

  /** Called by the agent with each desired state it applied (the tunnel and leases are in place by then). */
  update(state: SiteDesiredState): void {
    this.#revision = state.revision;
    this.#tickets = new Map(state.tickets.map((t) => [t.ticket, t.state]));
    this.#pendingAsks = new Map(state.tickets.map((t) => [t.ticket, t.pendingAsks ?? 0]));
    this.#time = new Map(state.tickets.map((t) => [t.ticket, { deadlineAt: t.deadlineAt ?? null, warned: t.warned ?? false, pendingExtensions: t.pendingExtensions ?? 0 }]));
    this.changed();
  }

  /** The site's state before the first desired state arrived is unknown, not "no tickets". */
  get known(): boolean {
    return this.#revision >= 0;
  }

  /** The state of an open ticket of this site, or undefined when it is not open (closed, or not this site's). */
  openState(ticket: number): TicketState | undefined {
    return this.#tickets.get(ticket);
  }

  /** How many operators' asks of an open ticket wait for the user (0 when the center does not say). */
  pendingAsks(ticket: number): number | undefined {
    return this.#pendingAsks.get(ticket);
  }

  /** An open ticket's deadline, whether it was warned and how many asks for more time wait (undefined when it is not open). */
  time(ticket: number): LiveTime | undefined {
    return this.#time.get(ticket);
  }

  openTickets(): { ticket: number; state: TicketState }[] {
    return [...this.#tickets].map(([ticket, state]) => ({ ticket, state })).sort((a, b) => b.ticket - a.ticket);
  }

  /** Tells every listener that something the page shows may have changed. */
  changed(): void {
    for (const listener of this.#listeners) listener();
  }

  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }
}
