// Who may see what on the help page: the tickets a browser opened (a cookie of HMACs of their numbers) and, with the gateway owner's password, all of them.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { helpTextFor } from './text.ts';

export const TICKETS_COOKIE = 'keyhole_tickets';
export const ADMIN_COOKIE = 'keyhole_help_admin';
/** Tickets a browser keeps (the newest): enough for a household, small enough for one cookie. */
const KEEP_TICKETS = 20;
const TICKETS_MAX_AGE_S = 3 * 24 * 3600;
const ADMIN_SESSION_MS = 60 * 60_000;
const ENTRY = /^([1-9]\d{0,15})\.([A-Za-z0-9_-]{22})$/;

export interface PasswordLimits {
  windowMs: number;
  /** Wrong passwords per client address in the window. */
  perAddress: number;
  /** Wrong passwords from all addresses together in the window. */
  overall: number;
}

export const DEFAULT_PASSWORD_LIMITS: PasswordLimits = { windowMs: 15 * 60_000, perAddress: 5, overall: 20 };

export type PasswordCheck = 'ok' | 'wrong' | 'limited';

export interface HelpAccessOptions {
  /** The agent's help page secret (0600 in its state dir). */
  secret: Buffer;
  /** The gateway owner's admin password; null: no admin level on the page at all. */
  adminPassword: string | null;
  now?: () => number;
  limits?: PasswordLimits;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Plain HTTP on the LAN: no Secure flag possible; HttpOnly and SameSite=Strict keep the cookies to this page. */
const COOKIE = { path: '/', httpOnly: true, sameSite: 'strict' as const };

export class HelpAccess {
  readonly #secret: Buffer;
  readonly #password: Buffer | null;
  readonly #now: () => number;
  readonly #limits: PasswordLimits;
  readonly #failures: { at: number; address: string }[] = [];

  constructor(options: HelpAccessOptions) {
    this.#secret = options.secret;
    this.#password = options.adminPassword === null ? null : sha256(options.adminPassword);
    this.#now = options.now ?? Date.now;
    this.#limits = options.limits ?? DEFAULT_PASSWORD_LIMITS;
  }

  /** Whether the page offers the admin level at all (only with an admin password file). */
  get adminOffered(): boolean {
    return this.#password !== null;
  }

  #mac(text: string, length: number): string {
    return createHmac('sha256', this.#secret).update(text).digest('base64url').slice(0, length);
  }

  /** The tickets this browser opened, newest last (only entries this agent signed). */
  ticketsOf(request: FastifyRequest): number[] {
    const entries = (request.cookies[TICKETS_COOKIE] ?? '').split('~');
    const tickets: number[] = [];
    for (const entry of entries) {
      const match = ENTRY.exec(entry);
      if (match === null) continue;
      const ticket = Number(match[1]);
      if (Number.isSafeInteger(ticket) && equal(match[2] ?? '', this.#mac(`ticket:${ticket}`, 22)) && !tickets.includes(ticket)) tickets.push(ticket);
    }
    return tickets;
  }

  /** Gives this browser the right to see and cancel `ticket` (it opened it). */
  grant(request: FastifyRequest, reply: FastifyReply, ticket: number): void {
    const tickets = [...this.ticketsOf(request).filter((t) => t !== ticket), ticket].slice(-KEEP_TICKETS);
    const value = tickets.map((t) => `${t}.${this.#mac(`ticket:${t}`, 22)}`).join('~');
    reply.setCookie(TICKETS_COOKIE, value, { ...COOKIE, maxAge: TICKETS_MAX_AGE_S });
    request.cookies[TICKETS_COOKIE] = value;
  }

  /** True when this browser proved admin level (a signed, unexpired admin cookie for the current password). */
  isAdmin(request: FastifyRequest): boolean {
    if (this.#password === null) return false;
    const match = /^(\d{13,16})\.([A-Za-z0-9_-]{43})$/.exec(request.cookies[ADMIN_COOKIE] ?? '');
    if (match === null) return false;
    const expires = Number(match[1]);
    return expires > this.#now() && equal(match[2] ?? '', this.#adminMac(expires));
  }

  /** The password changing ends every admin session: its digest is part of the MAC. */
  #adminMac(expires: number): string {
    return this.#mac(`admin:${expires}:${this.#password?.toString('base64') ?? ''}`, 43);
  }

  /** Whether this browser may see and cancel `ticket`. */
  mayAccess(request: FastifyRequest, ticket: number): boolean {
    return this.isAdmin(request) || this.ticketsOf(request).includes(ticket);
  }

  /**
   * Checks the admin password typed by the client at `address`, in constant time; refuses to check at
   * all while that address, or the LAN as a whole, has guessed wrong too often in the window.
   */
  checkPassword(address: string, given: string): PasswordCheck {
    if (this.#password === null) return 'wrong';
    const now = this.#now();
    while (this.#failures.length > 0 && (this.#failures[0]?.at ?? now) <= now - this.#limits.windowMs) this.#failures.shift();
    const fromHere = this.#failures.filter((f) => f.address === address).length;
    if (fromHere >= this.#limits.perAddress || this.#failures.length >= this.#limits.overall) return 'limited';
    if (timingSafeEqual(sha256(given), this.#password)) return 'ok';
    this.#failures.push({ at: now, address });
    return 'wrong';
  }

  /** Minutes until a limited client may try again (for the page). */
  retryMinutes(): number {
    const oldest = this.#failures[0]?.at ?? this.#now();
    return Math.max(1, Math.ceil((oldest + this.#limits.windowMs - this.#now()) / 60_000));
  }

  signIn(reply: FastifyReply): void {
    const expires = this.#now() + ADMIN_SESSION_MS;
    reply.setCookie(ADMIN_COOKIE, `${expires}.${this.#adminMac(expires)}`, { ...COOKIE, maxAge: ADMIN_SESSION_MS / 1000 });
  }

  signOut(reply: FastifyReply): void {
    reply.clearCookie(ADMIN_COOKIE, COOKIE);
  }
}

/** What a typed admin password gives: null when it is right (the browser is signed in), else the words and status to show. */
export function provePassword(access: HelpAccess, request: FastifyRequest, reply: FastifyReply, given: string | undefined): { text: string; status: number } | null {
  const { t } = helpTextFor(request);
  if (given === undefined || given === '') return { text: t('password.empty'), status: 400 };
  const check = access.checkPassword(request.ip, given);
  if (check === 'limited') {
    const minutes = access.retryMinutes();
    return { text: t('password.limited', { minutes }), status: 429 };
  }
  if (check === 'wrong') {
    request.log.warn({ ip: request.ip }, 'help page admin password refused');
    return { text: t('password.wrong'), status: 401 };
  }
  access.signIn(reply);
  return null;
}
