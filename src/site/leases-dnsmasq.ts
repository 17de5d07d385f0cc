// Parses dnsmasq's lease file (OpenWrt /tmp/dhcp.leases, Debian /var/lib/misc/dnsmasq.leases). Pure.
import { isIP } from 'node:net';
import { dhcpHostname, type DhcpLease } from './dhcp-lease.ts';

/**
 * One lease a line: `expiry mac address hostname client-id`, expiry in seconds since the epoch (0: never),
 * `*` for no hostname. DHCPv6 lines follow a `duid SERVER-DUID` line and carry the IAID where IPv4 has
 * the MAC. A line that does not have this shape (a torn write) is skipped, never fatal.
 */
export function parseDnsmasqLeases(text: string): DhcpLease[] {
  const leases: DhcpLease[] = [];
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    if (fields.length < 4 || fields[0] === 'duid') continue;
    const [expiry = '', hw = '', address = '', hostname] = fields;
    if (!/^\d{1,12}$/.test(expiry) || isIP(address) === 0) continue;
    const seconds = Number(expiry);
    leases.push({
      address,
      hostname: hostname === '*' ? null : dhcpHostname(hostname),
      mac: /^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(hw) ? hw.toLowerCase() : null,
      expiresAt: seconds === 0 ? null : seconds * 1000,
    });
  }
  return leases;
}
