// Parses ISC dhcpd's lease file (/var/lib/dhcp/dhcpd.leases): `lease ADDRESS { … }` blocks. Pure.
import { isIP } from 'node:net';
import { dhcpHostname, type DhcpLease } from './dhcp-lease.ts';

const BLOCK = /^lease\s+(\S+)\s*\{([^}]*)\}/gm;

/** `ends 2 2026/12/01 10:50:51;` (UTC), `ends epoch 1796122251;` (db-time-format local) or `ends never;`. */
function endsAt(body: string): number | null | undefined {
  const match = /^\s*ends\s+([^;]*);/m.exec(body);
  if (match === null) return undefined;
  const value = (match[1] ?? '').trim();
  if (value === 'never') return null;
  const epoch = /^epoch\s+(\d{1,12})/.exec(value);
  if (epoch !== null) return Number(epoch[1]) * 1000;
  const date = /^\d\s+(\d{4})\/(\d{2})\/(\d{2})\s+(\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (date === null) return undefined;
  const [, y, mo, d, h, mi, s] = date.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/**
 * dhcpd appends a block each time a lease changes, so the last block for an address is the one in
 * force; only `binding state active` counts. The hostname is the client's (`client-hostname`), else
 * the one dhcpd gave it (`hostname`). A block it cannot read is skipped.
 */
export function parseIscLeases(text: string): DhcpLease[] {
  const byAddress = new Map<string, DhcpLease | null>();
  for (const match of text.replace(/#.*$/gm, '').matchAll(BLOCK)) {
    const address = match[1] ?? '';
    const body = match[2] ?? '';
    if (isIP(address) === 0) continue;
    const state = /^\s*binding\s+state\s+(\w+);/m.exec(body)?.[1];
    const expiresAt = endsAt(body);
    byAddress.delete(address);
    if (state !== 'active' || expiresAt === undefined) { byAddress.set(address, null); continue; }
    const mac = /^\s*hardware\s+ethernet\s+([0-9a-f:]+);/im.exec(body)?.[1]?.toLowerCase() ?? null;
    const name = /^\s*client-hostname\s+"([^"]*)";/m.exec(body)?.[1] ?? /^\s*hostname\s+"([^"]*)";/m.exec(body)?.[1];
    byAddress.set(address, { address, hostname: dhcpHostname(name), mac, expiresAt });
  }
  return [...byAddress.values()].filter((lease): lease is DhcpLease => lease !== null);
}
