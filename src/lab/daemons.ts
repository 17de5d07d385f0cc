// Starting the lab's processes and waiting for each to be ready: device services, the center, hub and
// site agents (readiness.ts says when each counts as up), and the console relay and forwarder.
import { existsSync, readFileSync } from 'node:fs';
import { KeyholeError } from '../protocol/errors.ts';
import { daemonArgv, daemonOf, dhcpHostsOf, dhcpLeasesOf, forwardArgv, serviceArgv, type DaemonKind } from './argv.ts';
import { dnsmasqArgv, labDhcpRange } from './dhcp.ts';
import { KEYHOLE_BIN, logFileOf, type LabFiles } from './files.ts';
import { nodeEnv } from './env.ts';
import { tailOf } from './log-tail.ts';
import { CONSOLE_INNER, type LabPlan } from './plan.ts';
import { isRunning, readyPath, startProcess, type ProcessRecord } from './processes.ts';
import { waitAgentsReady, waitCenterHealthy, waitSettled, type Probe } from './readiness.ts';
import { run } from './spawn.ts';
import { waitFor } from './wait.ts';

export interface LabContext { plan: LabPlan; files: LabFiles }
interface Signal { signal: AbortSignal }
/** `ready`: as the center sees it (registered, enrolled, converged); `alive`: the process stayed up (the center may be down). */
export type WaitFor = 'ready' | 'alive';

export const GATEWAY_SERVICE_PORT = 8080;

function netns(ctx: LabContext, node: string): string {
  const found = ctx.plan.nodes.find((candidate) => candidate.name === node);
  if (found === undefined) throw new KeyholeError('NOT_FOUND', `the lab has no node '${node}'`);
  return found.netns;
}

export function probeOf(ctx: LabContext): Probe {
  return { files: ctx.files, operatorNetns: netns(ctx, 'operator') };
}

function startHelper(ctx: LabContext, node: string, kind: string, argv: string[], inNetns: boolean): Promise<ProcessRecord> {
  return startProcess(ctx.files, {
    node, kind, netns: inNetns ? netns(ctx, node) : null, argv, env: nodeEnv(ctx.files, ctx.plan, node),
    log: logFileOf(ctx.files, node, kind, false),
  });
}

/** Waits for a helper's ready file; fails at once with its log when it dies first. */
async function waitReady(ctx: LabContext, record: ProcessRecord, { signal }: Signal): Promise<string> {
  const path = readyPath(ctx.files, record.node, record.kind);
  return waitFor(`${record.node} ${record.kind} to listen`, () => {
    if (existsSync(path)) return readFileSync(path, 'utf8').trim();
    if (!isRunning(record)) throw new KeyholeError('UNAVAILABLE', `${record.node} ${record.kind} exited:\n${tailOf(record.log)}`);
    return null;
  }, { signal, timeoutMs: 20_000, intervalMs: 50 });
}

/** One HTTP service per device (port 80) and per gateway (port 8080). */
export async function startServices(ctx: LabContext, { signal }: Signal): Promise<number> {
  const starts: Promise<ProcessRecord>[] = [];
  for (const site of ctx.plan.sites) {
    const gatewayReady = readyPath(ctx.files, site.node, 'service');
    starts.push(startHelper(ctx, site.node, 'service', serviceArgv(site.name, 'gateway', GATEWAY_SERVICE_PORT, gatewayReady), true));
    for (const device of site.devices) {
      const ready = readyPath(ctx.files, device.node, 'service');
      starts.push(startHelper(ctx, device.node, 'service', serviceArgv(site.name, device.name, 80, ready), true));
    }
  }
  const records = await Promise.all(starts);
  await Promise.all(records.map((record) => waitReady(ctx, record, { signal })));
  return records.length;
}

/** A real dnsmasq on each site gateway's LAN bridge, writing the lease file the site agent reads; waits until each has bound (its pid file). */
export async function startDhcp(ctx: LabContext, { signal }: Signal): Promise<number> {
  const { range, netmask } = labDhcpRange(ctx.plan.options.lan);
  const records = await Promise.all(ctx.plan.sites.map((site) => startHelper(ctx, site.node, 'dnsmasq', dnsmasqArgv({
    bridge: 'lan0', range, netmask, leaseFile: dhcpLeasesOf(ctx.files, site), hostsFile: dhcpHostsOf(ctx.files, site),
    pidFile: readyPath(ctx.files, site.node, 'dnsmasq'),
  }), true)));
  await Promise.all(records.map((record) => waitReady(ctx, record, { signal })));
  return records.length;
}

/**
 * Starts the keyhole daemons of some nodes (all centers, all hubs or all sites) with their pinned
 * command lines, then waits: the center until /healthz answers, hubs and sites per `wait`.
 */
export async function startDaemons(ctx: LabContext, nodes: string[], options: Signal & { wait?: WaitFor }): Promise<ProcessRecord[]> {
  const kinds = new Set(nodes.map((node) => daemonOf(ctx.plan, node)));
  const [kind] = kinds;
  if (kind === undefined || kind === null || kinds.size !== 1) {
    throw new KeyholeError('NOT_FOUND', `lab nodes ${nodes.join(', ')} do not all run the same keyhole daemon`);
  }
  const records = await Promise.all(nodes.map((node) => startProcess(ctx.files, {
    node, kind, netns: netns(ctx, node), argv: [KEYHOLE_BIN, ...daemonArgv(ctx.files, ctx.plan, node)],
    env: nodeEnv(ctx.files, ctx.plan, node), log: logFileOf(ctx.files, node, kind, true),
  })));
  await waitDaemons(ctx, kind, records, options);
  return records;
}

async function waitDaemons(ctx: LabContext, kind: DaemonKind, records: ProcessRecord[], options: Signal & { wait?: WaitFor }): Promise<void> {
  const { signal } = options;
  if (kind === 'center') {
    for (const record of records) await waitCenterHealthy(probeOf(ctx), record, { signal });
  } else if (options.wait === 'alive') {
    await waitSettled(records, { signal });
  } else {
    await waitAgentsReady(probeOf(ctx), kind, records, { signal, ...(kind === 'site' ? { localReady: (record: ProcessRecord) => siteAnswers(ctx, record, signal) } : {}) });
  }
}

/** The site agent's own `keyhole site status` answers on its control socket and says it is enrolled (this process, not the one before). */
async function siteAnswers(ctx: LabContext, record: ProcessRecord, signal: AbortSignal): Promise<boolean> {
  // A loaded machine can take seconds to start a `keyhole` process: a slow answer is "not yet", asked again, never fatal.
  const result = await run(['ip', 'netns', 'exec', netns(ctx, record.node), KEYHOLE_BIN, 'site', 'status', '--json'], {
    signal, env: { HOME: process.env.HOME ?? '/root', ...nodeEnv(ctx.files, ctx.plan, record.node) }, allowFail: true, timeoutMs: 60_000,
  }).catch((error: unknown) => {
    if (signal.aborted) throw error;
    return null;
  });
  if (result === null || result.code !== 0) return false;
  try {
    return (JSON.parse(result.stdout) as { enrolled?: unknown }).enrolled === true;
  } catch {
    return false;
  }
}

/**
 * The relay in the center's namespace and the host forwarder on 127.0.0.1, started together (the
 * forwarder only connects to the relay's socket per connection); returns the console URL.
 */
export async function startConsole(ctx: LabContext, { signal }: Signal): Promise<string> {
  const { files, plan } = ctx;
  const [relay, forwarder] = await Promise.all([
    startHelper(ctx, 'center', 'relay', [KEYHOLE_BIN, ...forwardArgv(files.consoleSocket,
      `${CONSOLE_INNER.host}:${CONSOLE_INNER.port}`, readyPath(files, 'center', 'relay'))], true),
    startHelper(ctx, 'host', 'forward', [KEYHOLE_BIN, ...forwardArgv(`127.0.0.1:${plan.options.consolePort}`,
      files.consoleSocket, readyPath(files, 'host', 'forward'))], false),
  ]);
  const [, bound] = await Promise.all([waitReady(ctx, relay, { signal }), waitReady(ctx, forwarder, { signal })]);
  return `http://${bound}/`;
}
