// Parses Kea's memfile lease file (/var/lib/kea/kea-leases4.csv and -leases6.csv): CSV with a header. Pure.
import { isIP } from 'node:net';
import { dhcpHostname, type DhcpLease } from './dhcp-lease.ts';

/**
 * Columns are found by the header's names (`address`, `hwaddr`, `expire`, `valid_lifetime`, `hostname`,
 * `state`), so both the v4 and v6 files and every Kea version's column order read the same. Kea
 * appends a row per change, so the last row of an address is in force; a row with valid_lifetime 0
 * (deleted) or a state other than 0 (declined, reclaimed, released) ends it. Kea writes a comma in a
 * hostname as `&#x2c`.
 */
export function parseKeaLeases(text: string): DhcpLease[] {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const header = (lines[0] ?? '').split(',');
  const column = (name: string): number => header.indexOf(name);
  const at = { address: column('address'), hw: column('hwaddr'), expire: column('expire'), valid: column('valid_lifetime'), hostname: column('hostname'), state: column('state') };
  if (at.address !== 0 || at.expire < 0) return [];
  const byAddress = new Map<string, DhcpLease | null>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const address = cells[at.address] ?? '';
    const expire = cells[at.expire] ?? '';
    if (isIP(address) === 0 || !/^\d{1,12}$/.test(expire)) continue;
    byAddress.delete(address);
    const state = at.state < 0 ? '0' : (cells[at.state] ?? '0');
    if ((at.valid >= 0 && cells[at.valid] === '0') || state !== '0') { byAddress.set(address, null); continue; }
    const hw = at.hw < 0 ? '' : (cells[at.hw] ?? '');
    byAddress.set(address, {
      address,
      hostname: dhcpHostname(at.hostname < 0 ? undefined : cells[at.hostname]?.replaceAll('&#x2c', ',')),
      mac: /^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(hw) ? hw.toLowerCase() : null,
      expiresAt: Number(expire) * 1000,
    });
  }
  return [...byAddress.values()].filter((lease): lease is DhcpLease => lease !== null);
}
