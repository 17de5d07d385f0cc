// What a DHCP server's lease file says of one client, whatever the server: the shape the lease parsers return.

/** One lease as the DHCP server wrote it. */
export interface DhcpLease {
  /** The leased address (IPv4 or IPv6). */
  address: string;
  /** The client's hostname (option 12 / FQDN), lower-case; null when it sent none. */
  hostname: string | null;
  /** The client's hardware address, lower-case; null when the file has none. */
  mac: string | null;
  /** When the lease ends (ms since the epoch); null for a lease that never ends. */
  expiresAt: number | null;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A client's hostname as a device name: lower-case, a trailing dot (an FQDN) dropped, every label a
 * valid hostname label; anything else (empty, `*`, spaces, control characters) is no name at all.
 */
export function dhcpHostname(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const name = raw.trim().toLowerCase().replace(/\.$/, '');
  if (name === '' || name.length > 253) return null;
  return name.split('.').every((label) => LABEL.test(label)) ? name : null;
}
