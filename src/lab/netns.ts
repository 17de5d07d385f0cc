// Network namespaces through `ip` and `nft`: build a group of the plan's nodes, list what exists,
// find the processes inside one, and delete them.
import { ToolError } from '../protocol/errors.ts';
import { run } from './spawn.ts';
import { configBatches, linkBatches, namespaceBatch, nftTable, type IpBatch } from './topology.ts';
import type { LabPlan, NodePlan } from './plan.ts';

interface Signal { signal: AbortSignal }

async function runBatch(batch: IpBatch, { signal }: Signal): Promise<void> {
  if (batch.lines.length === 0) return;
  const argv = batch.netns === null ? ['ip', '-batch', '-'] : ['ip', '-n', batch.netns, '-batch', '-'];
  await run(argv, { signal, input: `${batch.lines.join('\n')}\n` });
}

export async function createNamespaces(plan: LabPlan, { signal }: Signal): Promise<void> {
  await runBatch(namespaceBatch(plan), { signal });
}

/** Links, addresses, routes, forwarding and the lab's nftables tables for one group of nodes. */
export async function buildGroup(plan: LabPlan, group: NodePlan[], { signal }: Signal): Promise<void> {
  await Promise.all(linkBatches(plan, group).map((batch) => runBatch(batch, { signal })));
  await Promise.all(configBatches(plan, group).map((batch) => runBatch(batch, { signal })));
  await Promise.all(group.map(async (node) => {
    if (node.forwarding) await enableForwarding(node.netns, { signal });
    // A site counts bytes per connection (its agent turns it on too; the lab's sites start with it on, as a gateway would).
    if (node.role === 'site') await run(['ip', 'netns', 'exec', node.netns, 'sysctl', '-q', '-w', 'net.netfilter.nf_conntrack_acct=1'], { signal });
    const table = nftTable(node);
    if (table !== null) await run(['ip', 'netns', 'exec', node.netns, 'nft', '-f', '-'], { signal, input: table });
  }));
}

async function enableForwarding(netns: string, { signal }: Signal): Promise<void> {
  await run(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], { signal });
}

/** Every named namespace on the machine (`ip netns list`). */
export async function listNamespaces({ signal }: Signal): Promise<string[]> {
  const result = await run(['ip', '-j', 'netns', 'list'], { signal });
  const text = result.stdout.trim();
  if (text === '') return [];
  try {
    return (JSON.parse(text) as { name: string }[]).map((entry) => entry.name);
  } catch (error) {
    throw new ToolError('ip -j netns list printed something that is not JSON', { argv: ['ip', '-j', 'netns', 'list'], exitStatus: 0, stderr: text.slice(0, 200) }, { cause: error });
  }
}

/** The pids of every process whose network namespace is `netns`. */
export async function pidsIn(netns: string, { signal }: Signal): Promise<number[]> {
  const result = await run(['ip', 'netns', 'pids', netns], { signal, allowFail: true });
  if (result.code !== 0) return [];
  return result.stdout.split(/\s+/).filter((word) => /^\d+$/.test(word)).map(Number);
}

export async function deleteNamespace(netns: string, { signal }: Signal): Promise<void> {
  await run(['ip', 'netns', 'del', netns], { signal });
}

/** Host interfaces (name list), to find anything a lab left in the host's namespace. */
export async function hostLinks({ signal }: Signal): Promise<string[]> {
  const result = await run(['ip', '-j', 'link', 'show'], { signal });
  return (JSON.parse(result.stdout) as { ifname: string }[]).map((link) => link.ifname);
}

export async function deleteHostLink(ifname: string, { signal }: Signal): Promise<void> {
  await run(['ip', 'link', 'del', ifname], { signal, allowFail: true });
}
