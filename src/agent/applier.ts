// Runs an agent's applies one at a time: changes arriving meanwhile coalesce to the newest, and a forced resync is never lost.
import type { Logger } from 'pino';

export type ApplyReason = 'start' | 'watch' | 'resync';

export interface ApplierOptions<T extends { revision: number }> {
  /** Converges to `state`. `start` and `resync` are forced: re-check the host even when nothing changed. */
  apply(state: T, reason: ApplyReason, signal: AbortSignal): Promise<void>;
  log: Logger;
}

export class Applier<T extends { revision: number }> {
  readonly #options: ApplierOptions<T>;
  readonly #signal: AbortSignal;
  #pending: { state: T; reason: ApplyReason } | null = null;
  #running: Promise<void> | null = null;
  #applied = -1;
  /** The newest state offered, for a repair between resyncs. */
  last: T | null = null;

  constructor(options: ApplierOptions<T>, signal: AbortSignal) {
    this.#options = options;
    this.#signal = signal;
  }

  /** True while an apply runs. */
  get busy(): boolean {
    return this.#running !== null;
  }

  /**
   * Queues a state; only the newest waits. A watch message below the newest offered is dropped, and one at
   * or below the applied revision when nothing waits; one arriving while a forced apply waits takes its place
   * but stays forced. A resync is the truth even below (a center that went back): state-sync drops the answers
   * a watch message overtook in flight.
   */
  offer(state: T, reason: ApplyReason): void {
    // A late watch message (a new stream's first state read before a commit the agent already holds) never
    // takes the place of the newer state, waiting or applied.
    if (reason === 'watch' && this.last !== null && state.revision < this.last.revision) return;
    this.last = state;
    if (reason === 'watch' && state.revision <= this.#applied && this.#pending === null) return;
    const forced = reason !== 'watch' || this.#pending?.reason === 'resync' || this.#pending?.reason === 'start';
    this.#pending = { state, reason: forced && reason === 'watch' ? 'resync' : reason };
    this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#pending !== null && !this.#signal.aborted) {
      const { state, reason } = this.#pending;
      this.#pending = null;
      try {
        await this.#options.apply(state, reason, this.#signal);
        this.#applied = state.revision;
      } catch (err) {
        if (!this.#signal.aborted) this.#options.log.error({ err, revision: state.revision }, 'apply failed; next resync tries again');
      }
    }
    this.#running = null;
  }

  /** Resolves once no apply runs. */
  async idle(): Promise<void> {
    await this.#running;
  }
}
