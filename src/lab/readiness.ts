// When a lab daemon counts as up: the center answers /healthz over TLS from the operator host; a hub
// is registered and converged, a site enrolled and converged, as the center's operator API reports them.
import { readFileSync } from 'node:fs';
import Type from 'typebox';
import { KeyholeError } from '../protocol/errors.ts';
import { ROUTES } from '../protocol/routes.ts';
import { HubView, SiteView } from '../protocol/schemas/operator-api.ts';
import { parseJsonWith } from '../protocol/validate.ts';
import { CENTER_URL } from './plan.ts';
import { isRunning, type ProcessRecord } from './processes.ts';
import { run } from './spawn.ts';
import { tailOf } from './log-tail.ts';
import { waitFor } from './wait.ts';
import type { LabFiles } from './files.ts';

interface Signal { signal: AbortSignal }
/** What the checks need: the operator's namespace and the lab's files. */
export interface Probe { files: LabFiles; operatorNetns: string }

/** How long a hub or site agent must stay alive to count as up when not waiting for the center's word. */
const SETTLE_MS = 1500;
/**
 * How long before its start an agent's `lastSeenAt` may be and still count as the new process having talked. A hub's
 * is written on every call: 1 s of clock slack (same machine). A site's at most every 5 s (the center's refresh
 * window), so an agent restarted within 5 s of its last call is not written again at once: 6 s, and the new
 * process must also answer on its own control socket (`localReady`), which the old one's contact cannot fake.
 */
const SLACK_MS = { hub: 1000, site: 6000 } as const;


function curl(probe: Probe, args: string[]): string[] {
  return ['ip', 'netns', 'exec', probe.operatorNetns, 'curl', '-sS', '--max-time', '2', '--cacert', probe.files.caCert, ...args];
}

/** GET /healthz from the operator's namespace over the center LAN, TLS checked against the lab CA. */
export async function centerHealth(probe: Probe, { signal }: Signal): Promise<{ healthy: boolean; detail: string }> {
  const result = await run(curl(probe, ['-o', '/dev/null', '-w', '%{http_code}', `${CENTER_URL}${ROUTES.health}`]), { signal, allowFail: true, timeoutMs: 5000 });
  const status = result.stdout.trim();
  if (result.code === 0 && status === '200') return { healthy: true, detail: 'HTTP 200' };
  return { healthy: false, detail: result.code === 0 ? `HTTP ${status}` : result.stderr.trim().split('\n').pop() ?? `curl exit ${result.code}` };
}

/** An operator API call from the operator host; the token reaches curl on stdin (`-H @-`), never on argv. */
async function operatorGet(probe: Probe, path: string, { signal }: Signal): Promise<string | null> {
  const token = readFileSync(probe.files.operatorToken, 'utf8').trim();
  const result = await run(curl(probe, ['--fail', '-H', '@-', `${CENTER_URL}${path}`]), {
    signal, allowFail: true, timeoutMs: 5000, input: `Authorization: Bearer ${token}\n`,
  });
  return result.code === 0 ? result.stdout : null;
}

function checkAlive(records: ProcessRecord[]): void {
  for (const record of records) {
    if (!isRunning(record)) throw new KeyholeError('UNAVAILABLE', `${record.node} (${record.kind}) exited:\n${tailOf(record.log)}`);
  }
}

export async function waitCenterHealthy(probe: Probe, record: ProcessRecord, { signal }: Signal): Promise<void> {
  let last = '';
  await waitFor('the center to answer /healthz', async () => {
    checkAlive([record]);
    const health = await centerHealth(probe, { signal });
    last = health.detail;
    return health.healthy;
  }, { signal, timeoutMs: 30_000, intervalMs: 200, describe: () => `${last}\n${tailOf(record.log)}` });
}

/** Alive and still alive SETTLE_MS after start: a daemon that refuses its flags is dead by then. */
export async function waitSettled(records: ProcessRecord[], { signal }: Signal): Promise<void> {
  const started = Math.max(...records.map((record) => Date.parse(record.startedAt)));
  await waitFor(`${records.map((record) => record.node).join(', ')} to stay up`, () => {
    checkAlive(records);
    return Date.now() - started >= SETTLE_MS;
  }, { signal, timeoutMs: SETTLE_MS + 5000, intervalMs: 100 });
}

/**
 * Waits until the center lists every hub (healthy) or site of `records`, heard from since it started,
 * with its observed revision caught up with its desired one. Fails at once when one of them exits.
 */
export async function waitAgentsReady(
  probe: Probe, kind: 'hub' | 'site', records: ProcessRecord[], { signal, localReady }: Signal & { localReady?: (record: ProcessRecord) => Promise<boolean> },
): Promise<void> {
  let pending = records.map((record) => record.node);
  await waitFor(`the center to see ${kind}s ${records.map((record) => record.node).join(', ')} converged`, async () => {
    checkAlive(records);
    const text = await operatorGet(probe, `${kind === 'hub' ? ROUTES.hubs : ROUTES.sites}?limit=1000`, { signal });
    if (text === null) return false;
    const views = kind === 'hub'
      ? parseJsonWith(Type.Array(HubView), text, 'GET /v1/hubs').map((view) => ({ name: view.hub, ok: view.healthy, ...view }))
      : parseJsonWith(Type.Array(SiteView), text, 'GET /v1/sites').map((view) => ({ name: view.site, ok: true, ...view }));
    pending = records.filter((record) => {
      const view = views.find((candidate) => candidate.name === record.node);
      return view === undefined || !view.ok || (view.lastSeenAt ?? 0) < Date.parse(record.startedAt) - SLACK_MS[kind] || view.observedRevision < view.revision;
    }).map((record) => record.node);
    if (pending.length === 0 && localReady !== undefined) {
      const answers = await Promise.all(records.map(async (record) => ((await localReady(record)) ? null : record.node)));
      pending = answers.filter((node) => node !== null);
    }
    return pending.length === 0;
  }, { signal, timeoutMs: 120_000, intervalMs: 250, describe: () => `not yet: ${pending.join(', ')}\n${records.filter((r) => pending.includes(r.node)).map((r) => tailOf(r.log, 5)).join('\n')}` });
}
