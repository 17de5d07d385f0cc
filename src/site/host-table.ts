// The site's host table: device names → LAN addresses, from /etc/hosts-format files and DHCP leases; `gateway` is always the agent itself. Pure.
import { isIP } from 'node:net';
import { KeyholeError } from '../protocol/errors.ts';
import { GATEWAY_DEVICE } from '../protocol/schemas/common.ts';
import type { DhcpLease } from './dhcp-lease.ts';

const NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface HostTable {
  /** Lower-case name → address. Aliases resolve too. */
  names: Map<string, string>;
  /** Lower-case name or alias → the device's primary name: one device, one lease, whatever it is called. */
  primary: Map<string, string>;
  /** The primary names in file order, for pickers (the help page), `gateway` first; DHCP names after the static ones. */
  devices: string[];
  /** The primary names that come from a DHCP lease (the others are static), with the client's MAC and the lease's end. */
  dhcp?: Map<string, { mac: string | null; expiresAt: number | null }>;
  /** DHCP names seen before whose lease is gone now (expired or released), with their last address. */
  gone?: Map<string, string>;
}

/** A table that knows only `gateway`, at the agent's own LAN address. */
export function emptyHostTable(gatewayAddress: string): HostTable {
  return {
    names: new Map([[GATEWAY_DEVICE, gatewayAddress]]), primary: new Map([[GATEWAY_DEVICE, GATEWAY_DEVICE]]),
    devices: [GATEWAY_DEVICE], dhcp: new Map(), gone: new Map(),
  };
}

/**
 * Adds /etc/hosts text: `address name [aliases…]`, `#` comments. Loopback and names that are not
 * hostnames are skipped, and so is a name the table already has (the first file wins); a bad address
 * is an error naming the line.
 */
export function addHosts(table: HostTable, text: string, source = 'hosts file'): HostTable {
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [address = '', ...aliases] = line.split(/\s+/);
    if (isIP(address) === 0) throw new KeyholeError('BAD_CONFIG', `${source} line ${index + 1}: '${address}' is not an IP address`);
    if (address.startsWith('127.') || address === '::1') return;
    const valid = [...new Set(aliases.map((a) => a.toLowerCase()))].filter((name) => NAME.test(name) && !table.names.has(name));
    const first = valid[0];
    if (first === undefined) return;
    table.devices.push(first);
    for (const name of valid) { table.names.set(name, address); table.primary.set(name, first); }
  });
  return table;
}

/** Parses one /etc/hosts text into a table of its own (see addHosts). */
export function parseHosts(text: string, gatewayAddress: string, source = 'hosts file'): HostTable {
  return addHosts(emptyHostTable(gatewayAddress), text, source);
}

/**
 * Adds the live DHCP leases that carry a hostname. Static names win (a LAN client cannot take over a
 * name the hosts file gives, nor `gateway`); of two leases with one hostname the one ending last wins;
 * expired leases are left out. An FQDN's first label becomes an alias when free. DHCP devices come
 * after the static ones, by name.
 */
export function addLeases(table: HostTable, leases: readonly DhcpLease[], now: number): HostTable {
  const ends = (lease: DhcpLease): number => lease.expiresAt ?? Number.POSITIVE_INFINITY;
  const live = leases.filter((lease) => lease.hostname !== null && ends(lease) > now).sort((a, b) => ends(b) - ends(a));
  const added: string[] = [];
  const dhcp = table.dhcp ?? new Map<string, { mac: string | null; expiresAt: number | null }>();
  for (const lease of live) {
    const name = lease.hostname ?? '';
    if (table.names.has(name)) continue;
    const short = name.split('.')[0] ?? name;
    for (const alias of short !== name && !table.names.has(short) ? [name, short] : [name]) {
      table.names.set(alias, lease.address);
      table.primary.set(alias, name);
    }
    dhcp.set(name, { mac: lease.mac, expiresAt: lease.expiresAt });
    added.push(name);
  }
  table.devices.push(...added.sort());
  table.dhcp = dhcp;
  return table;
}
