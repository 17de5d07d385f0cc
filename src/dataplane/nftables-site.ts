// Builds the site's nftables table from a SiteNatPlan: lease DNAT through a map, a forward and an input filter, optional SNAT (pure).
//
//   prerouting  iifname T dnat to daddr map @lease4|@lease6         pool address → device LAN address
//   forward     iifname T (original daddr . daddr) in @pair4|@pair6  accept, other tunnel traffic drop;
//               oifname T established,related accept, other traffic into the tunnel drop
//   input       iifname T replies accept; leased pairs accept (a lease of this box's own LAN address);
//               gateway address accept only when open; other drop
//   postrouting iifname T snat to snatAddress (when given)
//   mark        (with `mark`, at prerouting before any other chain judges the packet) tunnel → leased
//               address or open gateway, and the replies of those connections: meta mark |= mark,
//               which the pass rules keyhole puts into the host firewall's chains accept (firewall-plan.ts)
//
// Checking the pair, not the LAN address alone, means a device's LAN address reached directly
// through the tunnel is dropped, and a flow started before its lease ended is dropped afterwards.
import { parseAddress } from '../protocol/ip.ts';
import {
  accept, chain, ctDnat, ctReply, ctState, daddr, daddrIs, drop, iifname, nfproto, oifname, pairIn, PRIO, proto, replaceTable, rule, TAG,
  type NftBatch, type NftCommand, type NftExpr,
} from './nftables-json.ts';
import type { SiteNatPlan } from './types.ts';

/** Names of the site table's maps and sets, by family. */
export const SITE_SETS = {
  lease: { 4: 'lease4', 6: 'lease6' },
  pair: { 4: 'pair4', 6: 'pair6' },
  marked: { 4: 'marked4', 6: 'marked6' },
} as const;

/** keyhole's firewall mark and where its marking chain runs (see firewall-plan.ts). */
export interface SiteMarkOptions { mark: number; prio: number }

const FAMILIES = [4, 6] as const;

/** The batch that makes `table` hold exactly the plan's NAT and filter, replacing whatever it held. */
export function buildSiteRuleset(plan: SiteNatPlan, table: string, marking?: SiteMarkOptions): NftBatch {
  const byFamily = { 4: [] as [string, string][], 6: [] as [string, string][] };
  for (const { address, lanAddress } of plan.mappings) byFamily[parseAddress(address).family].push([address, lanAddress]);
  const objects: Partial<NftCommand>[] = [];
  for (const family of FAMILIES) objects.push(...setsFor(table, family, byFamily[family]));
  objects.push(...prerouting(table, plan.iface), ...forward(table, plan.iface), ...input(table, plan), ...postrouting(table, plan));
  if (marking !== undefined) objects.push(...markChain(table, plan, byFamily, marking));
  return replaceTable(table, objects);
}

function setsFor(table: string, family: 4 | 6, pairs: [string, string][]): Partial<NftCommand>[] {
  const type = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const map: Record<string, unknown> = { family: 'inet', table, name: SITE_SETS.lease[family], type, map: type };
  const set: Record<string, unknown> = { family: 'inet', table, name: SITE_SETS.pair[family], type: [type, type] };
  if (pairs.length > 0) {
    map['elem'] = pairs;
    set['elem'] = pairs.map((pair) => ({ concat: pair }));
  }
  return [{ add: { map } }, { add: { set } }];
}

function prerouting(table: string, iface: string): Partial<NftCommand>[] {
  return [
    chain(table, { name: 'prerouting', type: 'nat', hook: 'prerouting', prio: PRIO.dstnat }),
    ...FAMILIES.map((family) => rule(table, 'prerouting', [
      iifname(iface),
      { dnat: { family: proto(family), addr: { map: { key: daddr(family), data: `@${SITE_SETS.lease[family]}` } } } },
    ], TAG.dnat)),
  ];
}

function forward(table: string, iface: string): Partial<NftCommand>[] {
  return [
    chain(table, { name: 'forward', type: 'filter', hook: 'forward', prio: PRIO.filter }),
    ...FAMILIES.map((family) => rule(table, 'forward', [iifname(iface), ctDnat, pairIn(family, SITE_SETS.pair[family]), accept], TAG.admit)),
    rule(table, 'forward', [iifname(iface), drop]),
    rule(table, 'forward', [oifname(iface), ctState(['established', 'related']), accept]),
    rule(table, 'forward', [oifname(iface), drop]),
  ];
}

function input(table: string, plan: SiteNatPlan): Partial<NftCommand>[] {
  const gatewayFamily = parseAddress(plan.gatewayAddress).family;
  return [
    chain(table, { name: 'input', type: 'filter', hook: 'input', prio: PRIO.filter }),
    rule(table, 'input', [iifname(plan.iface), ctReply, accept]),
    rule(table, 'input', [iifname(plan.iface), ctState(['related']), accept]),
    ...FAMILIES.map((family) => rule(table, 'input', [iifname(plan.iface), ctDnat, pairIn(family, SITE_SETS.pair[family]), accept], TAG.admit)),
    ...(plan.gatewayOpen ? [rule(table, 'input', [iifname(plan.iface), daddrIs(gatewayFamily, plan.gatewayAddress), accept], TAG.gatewayOpen)] : []),
    rule(table, 'input', [iifname(plan.iface), drop]),
  ];
}

function postrouting(table: string, plan: SiteNatPlan): Partial<NftCommand>[] {
  if (plan.snatAddress === null) return [];
  const family = parseAddress(plan.snatAddress).family;
  return [
    chain(table, { name: 'postrouting', type: 'nat', hook: 'postrouting', prio: PRIO.srcnat }),
    rule(table, 'postrouting', [iifname(plan.iface), nfproto(family), { snat: { family: proto(family), addr: plan.snatAddress } }], TAG.snat),
  ];
}

function markChain(table: string, plan: SiteNatPlan, byFamily: Record<4 | 6, [string, string][]>, marking: SiteMarkOptions): Partial<NftCommand>[] {
  const gatewayFamily = parseAddress(plan.gatewayAddress).family;
  const setMark: NftExpr = { mangle: { key: { meta: { key: 'mark' } }, value: { '|': [{ meta: { key: 'mark' } }, marking.mark] } } };
  const objects: Partial<NftCommand>[] = [chain(table, { name: 'mark', type: 'filter', hook: 'prerouting', prio: marking.prio })];
  for (const family of FAMILIES) {
    const addresses = byFamily[family].map(([address]) => address);
    if (plan.gatewayOpen && gatewayFamily === family) addresses.push(plan.gatewayAddress);
    const type = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
    objects.unshift({ add: { set: { family: 'inet', table, name: SITE_SETS.marked[family], type, ...(addresses.length > 0 ? { elem: addresses } : {}) } } });
    const set = `@${SITE_SETS.marked[family]}`;
    const original = { ct: { key: `${proto(family)} daddr`, dir: 'original' } };
    objects.push(
      rule(table, 'mark', [iifname(plan.iface), { match: { op: '==', left: daddr(family), right: set } }, setMark], TAG.mark),
      rule(table, 'mark', [ctReply, ctDnat, { match: { op: '==', left: original, right: set } }, setMark], TAG.mark),
    );
  }
  return objects;
}
