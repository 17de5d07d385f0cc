// The hub agent: registers with the center, holds one WireGuard interface whose peers follow the desired state, reports what it holds.
import type { Logger } from 'pino';
import { bearer, CenterClient } from '../agent/center-client.ts';
import { ensureStateDir } from '../agent/secret-files.ts';
import { loadOrCreateKey } from '../agent/key-file.ts';
import { untilReached } from '../agent/retry.ts';
import { runStateSync } from '../agent/state-sync.ts';
import type { HubDataplane, HubPlan, Observed } from '../dataplane/types.ts';
import { hostPrefix } from '../protocol/ip.ts';
import { ROUTES } from '../protocol/routes.ts';
import type { HubObservedState} from '../protocol/schemas/hub-api.ts';
import { HubDesiredState, HubRegistered } from '../protocol/schemas/hub-api.ts';

export interface HubAgentOptions {
  center: string;
  centerCa?: string;
  name: string;
  token: string;
  endpoint: string;
  block: string;
  capacity: number;
  iface: string;
  stateDir: string;
  resyncMs: number;
  dataplane: HubDataplane;
  /** Remove the interface and rules on stop (default); off keeps tunnels up across an agent restart. */
  teardownOnStop: boolean;
  log: Logger;
}

/** The data-plane plan for a desired state: the interface always exists, peers exactly as desired. */
export function hubPlan(state: HubDesiredState, options: { iface: string; privateKey: string; listenPort: number }): HubPlan {
  return {
    tunnel: {
      iface: options.iface,
      privateKey: options.privateKey,
      listenPort: options.listenPort,
      addresses: [hostPrefix(state.address)],
      routes: [state.block],
      peers: state.peers.map((p) => ({ publicKey: p.publicKey, presharedKey: p.presharedKey, endpoint: null, allowedIps: p.allowedIps, keepalive: 0 })),
    },
    filter: { iface: options.iface, address: state.address, block: state.block },
  };
}

function observedReport(revision: number, observed: Observed, iface: string, errors: string[]): HubObservedState {
  return {
    revision,
    iface: observed.tunnel === null ? null : iface,
    peers: (observed.tunnel?.peers ?? []).map((p) => ({ publicKey: p.publicKey, handshakeAt: p.handshakeAt, endpoint: p.endpoint, allowedIps: p.allowedIps })),
    errors: [...observed.warnings, ...errors].slice(0, 32).map((e) => e.slice(0, 1000)),
    since: observed.tunnel?.since ?? null,
  };
}

async function register(options: HubAgentOptions, client: CenterClient, publicKey: string, signal: AbortSignal): Promise<HubRegistered | null> {
  return untilReached('registration', async () => {
    const registered = await client.call('POST', ROUTES.hubRegister(options.name), {
      endpoint: options.endpoint, block: options.block, capacity: options.capacity, publicKey,
    }, HubRegistered, { signal, auth: bearer(options.token) });
    options.log.info({ address: registered.address, block: registered.block }, 'registered with the center');
    return registered;
  }, options.log, signal);
}

/** Runs the hub agent until `signal` aborts; then, unless told otherwise, removes what it programmed. */
export async function runHubAgent(options: HubAgentOptions, signal: AbortSignal): Promise<void> {
  ensureStateDir(options.stateDir);
  const { privateKey, publicKey } = loadOrCreateKey(options.stateDir);
  const listenPort = Number(options.endpoint.slice(options.endpoint.lastIndexOf(':') + 1));
  const client = new CenterClient({ url: options.center, ...(options.centerCa === undefined ? {} : { ca: options.centerCa }) });
  const auth = bearer(options.token);
  const log = options.log;
  let lastApplied = 0;
  try {
    if ((await register(options, client, publicKey, signal)) === null) return;
    await runStateSync({
      client, auth, log, resyncMs: options.resyncMs, schema: HubDesiredState,
      statePath: ROUTES.hubState(options.name), watchPath: ROUTES.hubWatch(options.name),
      apply: async (state, reason, applySignal) => {
        const started = performance.now();
        const errors: string[] = [];
        let observed: Observed;
        try {
          observed = await options.dataplane.apply(hubPlan(state, { iface: options.iface, privateKey, listenPort }), { signal: applySignal });
          lastApplied = state.revision;
        } catch (err) {
          // Report only what is known to hold: the center frees nothing on the strength of this failure.
          errors.push(`apply of revision ${state.revision} failed: ${(err as Error).message}`);
          observed = await options.dataplane.observe({ signal: applySignal }).catch(() => ({ tunnel: null, warnings: [] }));
          log.error({ err, revision: state.revision }, 'hub apply failed');
        }
        log.info({ revision: state.revision, reason, peers: state.peers.length, ms: Math.round(performance.now() - started) }, 'desired state applied');
        await client.call('POST', ROUTES.hubObserved(options.name), observedReport(lastApplied, observed, options.iface, errors), null, { signal: applySignal, auth });
      },
      healthy: async (checkSignal) => lastApplied === 0 || (await options.dataplane.observe({ signal: checkSignal })).tunnel !== null,
      onRefused: async (error, refusedSignal) => {
        if (error.code === 'HUB_UNKNOWN') return (await register(options, client, publicKey, refusedSignal)) !== null;
        return false;
      },
    }, signal);
  } finally {
    client.close();
    if (options.teardownOnStop) {
      await options.dataplane.teardown({ signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => log.error({ err }, 'teardown failed'));
      log.info({ iface: options.iface }, 'data plane removed');
    }
  }
}
