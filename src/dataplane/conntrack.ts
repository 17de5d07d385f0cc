// The site's connection tracking for the help page: `conntrack -E` events tailed from a file, `conntrack -L` for byte counts.
//
// `conntrack -E -e NEW` hears every connection as the kernel creates it, even one refused at once
// (a listing would miss it), so nothing the center opened is hidden from the customer. The listener
// writes to a 0600 file in the agent's state dir (a pipe would not let us read it line by line
// through `run.ts`); each read takes the new lines and empties the file once it has grown. Byte counts need
// connection accounting (`net.netfilter.nf_conntrack_acct`): the tracker turns it on in its namespace while it
// runs, keeps the value it found in the state dir (so a restart after kill -9 still knows it), and puts it back
// on close (the packaged unit lets it write that one file: ReadWritePaths= under ProtectKernelTunables=). The
// listener hears NEW and DESTROY: a connection's end carries its final counts. Open connections' counts so far come
// from a `conntrack -L --orig-dst ADDRESS` per leased address at most every LIST_EVERY_MS (never the whole table:
// a gateway tracks every LAN connection to the internet).
import { open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { connectionsTo, parseConntrack } from './conntrack-parse.ts';
import { Host } from './host.ts';
import { isAlive, type ProcessHandle } from './process-handle.ts';
import { spawnDetached } from './run.ts';
import type { ConnectionTracker, TrackedConnection } from './types.ts';
import type { Wait } from '../base/wait.ts';

export const CONNTRACK_LOG = 'conntrack-events.log';
const PID_FILE = 'conntrack.pid';
const EMPTY_AT_BYTES = 256 * 1024;
const RETRY_MS = 60_000;
const ACCT_FILE = 'conntrack-acct.orig';
const ACCT = 'net.netfilter.nf_conntrack_acct';
/** How often open connections' byte counts are listed (only while a lease exists: reads happen then only). */
const LIST_EVERY_MS = 5000;

/** The listing of one leased address's connections, with counts and ids. */
export function listArgv(address: string): string[] {
  return ['conntrack', '-L', '--orig-dst', address, '-o', 'extended,id'];
}

export interface ConntrackOptions {
  stateDir: string;
  log: Logger;
  /** Run conntrack in this namespace (tests); default the agent's own. */
  netns?: string;
  now?: () => number;
}

/** Connection tracking through Debian's `conntrack` tool. */
export class ConntrackTracker implements ConnectionTracker {
  readonly #host: Host;
  readonly #path: string;
  readonly #pidFile: string;
  readonly #log: Logger;
  readonly #now: () => number;
  #listener: ProcessHandle | null = null;
  #offset = 0;
  #failedAt = -Infinity;
  #listed = false;
  #listedAt = -Infinity;
  #closed = false;
  readonly #acctFile: string;

  constructor(options: ConntrackOptions) {
    this.#host = new Host({ netns: options.netns });
    this.#path = join(options.stateDir, CONNTRACK_LOG);
    this.#pidFile = join(options.stateDir, PID_FILE);
    this.#acctFile = join(options.stateDir, ACCT_FILE);
    this.#log = options.log.child({ component: 'conntrack' });
    this.#now = options.now ?? Date.now;
  }

  async read(addresses: readonly string[], options: Wait): Promise<TrackedConnection[]> {
    if (this.#closed) return [];
    await this.#ensureListener();
    const found: TrackedConnection[] = [];
    if (this.#listener !== null && (!this.#listed || this.#now() - this.#listedAt >= LIST_EVERY_MS)) {
      // At start: connections already open (an agent restarted mid-ticket); then: their byte counts so far.
      this.#listed = true;
      this.#listedAt = this.#now();
      found.push(...await this.#list(addresses, options));
    }
    found.push(...connectionsTo(parseConntrack(await this.#newLines()), addresses, this.#now()));
    return found;
  }

  async #ensureListener(): Promise<void> {
    if (this.#listener?.isRunning() === true || this.#now() - this.#failedAt < RETRY_MS) return;
    if (this.#listener !== null) this.#log.warn({ exit: this.#listener.exit }, 'conntrack listener stopped; starting it again');
    this.#listener = null;
    try {
      await this.#stopLeftover();
      await truncate(this.#path, 0).catch(() => undefined);
      this.#offset = 0;
      await this.#accountingOn();
      const argv = this.#host.argv(['conntrack', '-E', '-e', 'NEW,DESTROY', '-o', 'timestamp,id,extended']);
      const listener = await spawnDetached(argv, { name: 'conntrack', output: { file: this.#path } });
      if (this.#closed) {
        // Closed while it was starting: it must not outlive the agent.
        await listener.stop({ graceMs: 2000 });
        return;
      }
      this.#listener = listener;
      await writeFile(this.#pidFile, `${listener.pid}\n`, { mode: 0o600 });
      this.#log.info({ childPid: this.#listener.pid }, 'listening to connection tracking');
    } catch (err) {
      this.#failedAt = this.#now();
      this.#log.warn({ err }, 'connection tracking unavailable: the help page will not list the center\'s connections');
    }
  }

  /** A listener a crashed agent left running would append to the same file: stop it first. */
  async #stopLeftover(): Promise<void> {
    const pid = Number((await readFile(this.#pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return;
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!command.split('\0').includes('conntrack')) return;
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone meanwhile */ }
  }

  /** Turns connection accounting on, first keeping the value found (unless a crashed agent kept it already). */
  async #accountingOn(): Promise<void> {
    const found = await this.#host.sysctl(ACCT, { signal: AbortSignal.timeout(5000) });
    if (found === null || found === '1') return;
    const kept = await readFile(this.#acctFile, 'utf8').catch(() => null);
    if (kept === null) await writeFile(this.#acctFile, `${found}\n`, { mode: 0o600 });
    try {
      await this.#host.run(['sysctl', '-q', '-w', `${ACCT}=1`], { signal: AbortSignal.timeout(5000), timeoutMs: 5000 });
    } catch (err) {
      this.#log.warn({ err }, 'cannot turn on connection accounting: the help page shows no byte counts');
    }
  }

  /** Puts back the accounting setting found at start, if this tracker (or a crashed one before it) changed it. */
  async #accountingBack(): Promise<void> {
    const kept = (await readFile(this.#acctFile, 'utf8').catch(() => '')).trim();
    if (!/^[01]$/.test(kept)) return;
    try {
      await this.#host.run(['sysctl', '-q', '-w', `${ACCT}=${kept}`], { signal: AbortSignal.timeout(5000), timeoutMs: 5000 });
      await rm(this.#acctFile, { force: true });
    } catch (err) {
      this.#log.warn({ err }, 'cannot restore connection accounting');
    }
  }

  /** The entries of the leased addresses only (conntrack filters in the kernel by original destination). */
  async #list(addresses: readonly string[], options: Wait): Promise<TrackedConnection[]> {
    const found: TrackedConnection[] = [];
    for (const address of addresses) {
      try {
        const { stdout } = await this.#host.run(listArgv(address), { signal: options.signal, timeoutMs: 5000 });
        found.push(...connectionsTo(parseConntrack(stdout), addresses, this.#now()));
      } catch (err) {
        this.#log.warn({ err }, 'conntrack -L failed');
        return found;
      }
    }
    return found;
  }

  /** Complete lines appended since the last read; the file is emptied once it has grown (the listener appends). */
  async #newLines(): Promise<string> {
    let handle;
    try {
      handle = await open(this.#path, 'r');
    } catch {
      return '';
    }
    try {
      const { size } = await handle.stat();
      if (size < this.#offset) this.#offset = 0;
      if (size === this.#offset) return '';
      const buffer = Buffer.alloc(size - this.#offset);
      await handle.read(buffer, 0, buffer.length, this.#offset);
      const text = buffer.toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      this.#offset += Buffer.byteLength(text.slice(0, end));
      if (this.#offset >= EMPTY_AT_BYTES && end === text.length) {
        await truncate(this.#path, 0);
        this.#offset = 0;
      }
      return text.slice(0, end);
    } finally {
      await handle.close();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#listener?.stop({ graceMs: 2000 });
    this.#listener = null;
    // A listener left by an earlier agent that crashed, when this one never started its own.
    await this.#stopLeftover();
    await rm(this.#pidFile, { force: true });
    await this.#accountingBack();
  }
}
