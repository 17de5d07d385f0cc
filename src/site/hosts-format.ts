// Which kind of file a `--hosts` file is: an /etc/hosts table or one of the DHCP servers' lease files, given or detected. Pure.
import type { DhcpLease } from './dhcp-lease.ts';
import { parseDnsmasqLeases } from './leases-dnsmasq.ts';
import { parseIscLeases } from './leases-isc.ts';
import { parseKeaLeases } from './leases-kea.ts';

export const HOSTS_FORMATS = ['hosts', 'dnsmasq', 'isc', 'kea', 'auto'] as const;
export type HostsFormat = (typeof HOSTS_FORMATS)[number];
export type LeaseFormat = Exclude<HostsFormat, 'hosts' | 'auto'>;

const DNSMASQ_LINE = /^(\d{1,12} \S+ \S+ \S+ \S+|duid \S+)$/;

/**
 * Tells the format from the text: Kea's CSV header, dhcpd's `lease … {` blocks, dnsmasq's
 * five-field lines (every line), else /etc/hosts. An empty file reads as an empty table either way.
 */
export function detectFormat(text: string): Exclude<HostsFormat, 'auto'> {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  if (lines[0]?.startsWith('address,') === true && lines[0].includes(',expire')) return 'kea';
  if (lines.some((line) => /^lease\s+\S+\s*\{/.test(line))) return 'isc';
  if (lines.length > 0 && lines.every((line) => DNSMASQ_LINE.test(line))) return 'dnsmasq';
  return 'hosts';
}

export function parseLeases(format: LeaseFormat, text: string): DhcpLease[] {
  switch (format) {
    case 'dnsmasq': return parseDnsmasqLeases(text);
    case 'isc': return parseIscLeases(text);
    case 'kea': return parseKeaLeases(text);
    default: return format satisfies never;
  }
}
