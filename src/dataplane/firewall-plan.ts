// The rules keyhole inserts into the host firewall's chains, and the one batch that gets there from what is listed (pure).
//
// keyhole's own table marks exactly its flows (a packet from the tunnel to a leased address, the
// gateway's tunnel address only while `gateway` is leased, and the replies of those connections)
// with one bit of the packet mark, at prerouting before any chain that could judge them. At the top
// of each blocking chain it inserts `iifname T meta mark & BIT == BIT accept` (and `oifname T …` for
// replies), tagged with a comment, the way Docker and Tailscale insert their jumps. The pair check
// (lease → its device only) stays in keyhole's own forward and input chains, which run on the same
// hooks and drop whatever is not a mapped pair, so nothing else the firewall drops can pass.
import { chainLabel, type BlockingChain, type ListedRuleset } from './firewall-scan.ts';
import { accept, iifname, oifname, type NftBatch, type NftCommand, type NftExpr } from './nftables-json.ts';

/** The bit of the packet mark keyhole sets on its flows (0x10000000: clear of Tailscale's 0xff0000 and kube-proxy's 0xc000). */
export const FIREWALL_MARK = 0x1000_0000;
/** The comment on every rule keyhole inserts into a chain that is not its own: removal finds exactly these. */
export const PASS_TAG = 'keyhole:pass';
/** Priority of keyhole's marking chain at prerouting: after conntrack (-200), before mangle (-150) and dstnat (-100). */
export const MARK_PRIO = -190;

/** `meta mark & BIT == BIT` */
export const markIs = (mark: number): NftExpr => ({ match: { op: '==', left: { '&': [{ meta: { key: 'mark' } }, mark] }, right: mark } });

/** The expressions of the pass rules for one chain, one per direction it blocks. */
export function passRules(chain: BlockingChain, iface: string, mark: number): NftExpr[][] {
  return chain.directions.map((direction) => {
    // A reply's way out is not known yet at prerouting: the mark alone says it is keyhole's.
    const where = direction === 'in' ? [iifname(iface)] : chain.hook === 'prerouting' ? [] : [oifname(iface)];
    return [...where, markIs(mark), accept];
  });
}

/** A blocking chain keyhole cannot pass: it runs before the marking chain, so the mark is not there yet. */
export const passable = (chain: BlockingChain): boolean => !(chain.hook === 'prerouting' && chain.prio <= MARK_PRIO);

export interface FirewallPlan {
  /** The batch to send, or null when the ruleset is already as wanted. */
  batch: NftBatch | null;
  /** The chains that hold (or will hold) keyhole's pass rules, as `family table chain`. */
  inserted: string[];
  /** Blocking chains left as they are: not passable, or `own-table-only`. */
  blocked: string[];
}

export interface PlanInput {
  ruleset: ListedRuleset;
  blocking: BlockingChain[];
  /** The tunnel to pass, or null to remove every pass rule. */
  iface: string | null;
  mark: number;
  /** False for `own-table-only`: report, insert nothing (and remove what an earlier run inserted). */
  insert: boolean;
}

const exprText = (expr: NftExpr[]): string => JSON.stringify(expr);

/**
 * Deletes pass rules that are not wanted or not at the top of their chain, and inserts the wanted
 * ones at the top, in one transaction. A chain whose first rules are already exactly the wanted pass
 * rules is left alone, so a converged ruleset gives an empty plan (the health check's test).
 */
export function planFirewall(input: PlanInput): FirewallPlan {
  const wanted = new Map<string, { chain: BlockingChain; rules: NftExpr[][] }>();
  const blocked: string[] = [];
  for (const chain of input.blocking) {
    if (input.iface !== null && input.insert && passable(chain)) wanted.set(chainLabel(chain), { chain, rules: passRules(chain, input.iface, input.mark) });
    else if (input.iface !== null) blocked.push(chainLabel(chain));
  }
  const commands: Partial<NftCommand>[] = [];
  for (const listed of input.ruleset.chains.values()) {
    const ours = listed.rules.filter((rule) => rule.comment === PASS_TAG);
    const want = wanted.get(chainLabel(listed));
    const top = listed.rules.slice(0, want?.rules.length ?? 0).map((rule) => (rule.comment === PASS_TAG ? exprText(rule.expr) : null));
    const inPlace = want !== undefined && ours.length === want.rules.length
      && want.rules.every((rule) => top.includes(exprText(rule)));
    if (inPlace) continue;
    const id = { family: listed.family, table: listed.table, chain: listed.name };
    for (const rule of ours) commands.push({ delete: { rule: { ...id, handle: rule.handle } } });
    // `insert` with no position puts a rule first; the last inserted ends up on top.
    for (const expr of want?.rules ?? []) commands.push({ insert: { rule: { ...id, expr, comment: PASS_TAG } } } as Partial<NftCommand>);
  }
  return { batch: commands.length === 0 ? null : { nftables: commands }, inserted: [...wanted.keys()], blocked };
}
