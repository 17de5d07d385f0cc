// Keeps the site's host table current from its `--hosts` files (hosts format and DHCP lease files): re-read on change, watched, polled.
import { watch, readFileSync, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { KeyholeError } from '../protocol/errors.ts';
import type { DhcpLease } from './dhcp-lease.ts';
import { addHosts, addLeases, emptyHostTable, type HostTable } from './host-table.ts';
import { detectFormat, parseLeases, type HostsFormat } from './hosts-format.ts';

export interface HostSource { path: string; format: HostsFormat }
export interface HostFileOptions {
  now?: () => number;
  log?: Logger;
  /** The periodic stat behind fs.watch (which misses changes on some filesystems), jittered ±25 %. */
  pollMs?: number;
}

type Content = { kind: 'hosts'; text: string } | { kind: 'leases'; leases: DhcpLease[] };
interface SourceState extends HostSource { stamp: string; content: Content }

const MAX_GONE = 4096;

function fingerprintOf(table: HostTable): string {
  return JSON.stringify([[...table.names], [...(table.gone ?? [])]]);
}

/**
 * A table from several files: every hosts-format file first (in order; static names win), then the
 * live leases of every lease file. A file that becomes unreadable or unparsable keeps its last good
 * content; a lease file that does not exist (yet) counts as empty, since the DHCP server makes it.
 */
export class HostFile {
  readonly #gatewayAddress: string;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  readonly #pollMs: number;
  readonly #sources: SourceState[];
  readonly #listeners: ((table: HostTable) => void)[] = [];
  readonly #seen = new Map<string, string>();
  #table: HostTable;
  #fingerprint = '';
  #nextExpiry = Number.POSITIVE_INFINITY;

  constructor(sources: string | readonly HostSource[], gatewayAddress: string, options: HostFileOptions = {}) {
    this.#gatewayAddress = gatewayAddress;
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
    this.#pollMs = options.pollMs ?? 10_000;
    const list = typeof sources === 'string' ? [{ path: sources, format: 'hosts' as const }] : sources;
    this.#sources = list.map((source) => {
      const loaded = this.#read(source, true);
      if (loaded === null) throw new KeyholeError('BAD_CONFIG', `cannot read the host table ${source.path}`);
      return { ...source, ...loaded };
    });
    this.#table = this.#build();
    this.#fingerprint = fingerprintOf(this.#table);
  }

  /** A file's change stamp, or null when it cannot be stat'ed. */
  static #stamp(path: string): string | null {
    try {
      const s = statSync(path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return null;
    }
  }

  /** Reads and parses one file; null keeps what it had (a hosts file that is gone or bad). At start (`strict`) a bad line throws. */
  #read(source: HostSource, strict = false): { stamp: string; content: Content } | null {
    const stamp = HostFile.#stamp(source.path);
    let text: string;
    try {
      text = readFileSync(source.path, 'utf8');
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing && source.format !== 'hosts' && source.format !== 'auto') return { stamp: 'missing', content: { kind: 'leases', leases: [] } };
      if (strict) throw new KeyholeError('BAD_CONFIG', `cannot read the host table ${source.path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
      this.#log?.warn({ err: cause, path: source.path }, 'cannot read the host table');
      return null;
    }
    const format = source.format === 'auto' ? detectFormat(text) : source.format;
    if (format !== 'hosts') return { stamp: stamp ?? 'missing', content: { kind: 'leases', leases: parseLeases(format, text) } };
    try {
      addHosts(emptyHostTable(this.#gatewayAddress), text, source.path);
    } catch (err) {
      if (strict) throw err;
      this.#log?.warn({ err, path: source.path }, 'the host table has a bad line; keeping the last good one');
      return null;
    }
    return { stamp: stamp ?? 'missing', content: { kind: 'hosts', text } };
  }

  #build(): HostTable {
    const now = this.#now();
    const table = emptyHostTable(this.#gatewayAddress);
    for (const source of this.#sources) if (source.content.kind === 'hosts') addHosts(table, source.content.text, source.path);
    const leases = this.#sources.flatMap((source) => source.content.kind === 'leases' ? source.content.leases : []);
    addLeases(table, leases, now);
    this.#nextExpiry = Math.min(...leases.map((l) => l.expiresAt ?? Number.POSITIVE_INFINITY).filter((end) => end > now));
    for (const name of table.dhcp?.keys() ?? []) {
      this.#seen.delete(name);
      this.#seen.set(name, table.names.get(name) ?? '');
    }
    while (this.#seen.size > MAX_GONE) this.#seen.delete(this.#seen.keys().next().value ?? '');
    table.gone = new Map([...this.#seen].filter(([name]) => !table.names.has(name)));
    return table;
  }

  /**
   * Re-reads the files that changed and rebuilds the table when one did or a lease has ended since;
   * tells the listeners when the table is different. Returns whether it is.
   */
  refresh(): boolean {
    let dirty = this.#now() >= this.#nextExpiry;
    for (const source of this.#sources) {
      const stamp = HostFile.#stamp(source.path) ?? 'missing';
      if (stamp === source.stamp) continue;
      const loaded = this.#read(source);
      source.stamp = stamp;
      if (loaded !== null) { source.content = loaded.content; dirty = true; }
    }
    if (!dirty) return false;
    const table = this.#build();
    const fingerprint = fingerprintOf(table);
    this.#table = table;
    if (fingerprint === this.#fingerprint) return false;
    this.#fingerprint = fingerprint;
    for (const listener of this.#listeners) listener(table);
    return true;
  }

  /** The current table (re-read first if a file changed). */
  get(): HostTable {
    this.refresh();
    return this.#table;
  }

  /** Hears every change of the table (a device's new address, a new DHCP client, a lease gone). */
  onChange(listener: (table: HostTable) => void): void {
    this.#listeners.push(listener);
  }

  /** Watches the files' folders (fs.watch) and stats them every pollMs as well, until `signal` aborts. */
  watch(signal: AbortSignal): void {
    const watchers: FSWatcher[] = [];
    let soon: NodeJS.Timeout | undefined;
    const kick = (): void => { clearTimeout(soon); soon = setTimeout(() => this.refresh(), 50); };
    for (const source of this.#sources) {
      const name = basename(source.path);
      try {
        watchers.push(watch(dirname(source.path), { persistent: false, signal }, (_event, file) => { if (file === null || file === name) kick(); })
          .on('error', () => undefined));
      } catch (err) {
        this.#log?.warn({ err, path: source.path }, 'cannot watch the host table; polling it');
      }
    }
    let poll: NodeJS.Timeout | undefined;
    const next = (): void => { poll = setTimeout(() => { this.refresh(); next(); }, this.#pollMs * (0.75 + Math.random() * 0.5)); poll.unref(); };
    next();
    signal.addEventListener('abort', () => { clearTimeout(poll); clearTimeout(soon); for (const w of watchers) w.close(); }, { once: true });
  }
}
