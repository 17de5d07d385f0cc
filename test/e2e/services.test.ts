// End to end on the lab: a lease opened for `web` answers on 80 and not on 22 while a real sshd listens on the device; an
// operator's ask for ssh stays inert until the user accepts it on the help page, then 22 answers with a real SSH banner.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { adminPasswordOf } from '../../src/lab/files.ts';
import { Lab } from '../../src/lab/lab.ts';
import { eventually } from '../support/eventually.ts';
import { e2ePrerequisite, failureTracking, lease, Scenario, signal, type Ticket } from './support.ts';

const prerequisite = e2ePrerequisite(['sshd', 'ssh-keygen']);
if (prerequisite !== null && process.env.CI === 'true') throw new Error(`e2e services: ${prerequisite}, and CI=true forbids skipping`);

const prefix = `v${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'keyhole-services-'));
let s: Scenario;
let opened: Ticket;
const { check, failed } = failureTracking();

/** The first bytes a TCP server at host:port sends, read from `node` (empty when nothing accepted in time). */
async function banner(node: string, host: string, port: number): Promise<string> {
  const result = await s.exec(node, ['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port} && head -c 8 <&3`]);
  return result.code === 0 ? result.stdout : '';
}

/** A cookie jar signed in as the gateway's administrator on the help page (who sees every request of the gateway). */
async function signInHelp(node: string): Promise<string> {
  const base = `http://${s.siteOf('site1').lanAddress}`;
  const jar = join(dir, 'cookies');
  const form = await s.exec(node, ['curl', '-sS', '--max-time', '5', '-c', jar, '-b', jar, `${base}/admin`]);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.stdout)?.[1];
  assert.ok(csrf !== undefined, `no _csrf on ${base}/admin: ${form.stderr}`);
  const signIn = await s.exec(node, ['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', '-c', jar, '-b', jar,
    '--data-urlencode', `_csrf=${csrf}`, '--data-urlencode', `password@${adminPasswordOf(s.lab.files, 'site1')}`, `${base}/admin`]);
  assert.equal(signIn.stdout, '303', signIn.stderr);
  return jar;
}

describe('per-service leases on real nftables, with a real sshd', { skip: prerequisite ?? false, timeout: 600_000 }, () => {
  before(async () => {
    const lab = await Lab.up({ prefix, sites: 1, devices: 1, hubs: 1, consolePort: 0 }, { signal: signal(180_000) });
    s = new Scenario(lab);
    const made = await s.exec('operator', ['ssh-keygen', '-t', 'ed25519', '-N', '', '-q', '-f', join(dir, 'host')]);
    assert.equal(made.code, 0, made.stderr);
    chmodSync(join(dir, 'host'), 0o600);
    writeFileSync(join(dir, 'sshd_config'), ['Port 22', 'ListenAddress 0.0.0.0', `HostKey ${join(dir, 'host')}`, 'PasswordAuthentication no',
      'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', `PidFile ${join(dir, 'sshd.pid')}`, ''].join('\n'));
    await s.exec('site1-dev1', ['mkdir', '-p', '/run/sshd']);
    await s.lab.spawnIn('site1-dev1', ['/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')], { name: 'sshd' });
  });

  after(async () => {
    if (failed() && s !== undefined) for (const node of ['center', 'hub1', 'site1', 'site1-dev1']) process.stderr.write(`${s.lab.logs(node, 80)}\n`);
    await Lab.down(prefix, s?.lab.dir ?? `/run/keyhole-lab/${prefix}`, { signal: signal(120_000) });
    rmSync(dir, { recursive: true, force: true });
  });

  check('sshd answers on the LAN; a lease for web answers on 80 and is dropped on 22', async () => {
    opened = await s.request('site1', ['dev1:web']);
    await s.state(opened.ticket, 'ready');
    const address = lease(opened, 'dev1');
    const lanAddress = (await s.natMap('site1')).get(address);
    assert.ok(lanAddress !== undefined, `no NAT entry for ${address}`);
    await eventually('sshd listening on the device', async () => ((await banner('site1', lanAddress, 22)) === 'SSH-2.0-' ? true : undefined), 15_000);
    await eventually('the lease answers on 80', async () => ((await s.http('operator', `http://${address}/`)) === 'site=site1 device=dev1' ? true : undefined), 15_000, 200);
    assert.equal(await banner('operator', address, 22), '', '22 is not leased: the gateway drops it');
  });

  check('an ask for ssh is inert until the user accepts on the help page; then 22 answers with an SSH banner', async () => {
    const address = lease(opened, 'dev1');
    const asked = await s.operator<{ asks: { ask: number; state: string }[] }>(['tickets', 'ask', String(opened.ticket), '--device', 'dev1:ssh']);
    const ask = asked.asks.at(-1);
    assert.equal(ask?.state, 'pending');
    const jar = await signInHelp('site1-dev1');
    const url = `http://${s.siteOf('site1').lanAddress}/tickets/${opened.ticket}`;
    // The page shows the ask once the site holds the revision that carries it: from then on the site has applied it.
    const page = await eventually('the ask on the help page', async () => {
      const got = await s.exec('site1-dev1', ['curl', '-sS', '--fail', '--max-time', '3', '-c', jar, '-b', jar, url]);
      return got.code === 0 && got.stdout.includes(`data-ask="${ask?.ask}"`) && got.stdout.includes('consent-pending') ? got.stdout : undefined;
    }, 20_000, 250);
    assert.equal(await banner('operator', address, 22), '', 'still dropped while the user has not answered');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const answer = await s.exec('site1-dev1', ['curl', '-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', '-c', jar, '-b', jar,
      '--data-urlencode', `_csrf=${csrf}`, '--data-urlencode', 'answer=accept', `${url}/consent/access/${ask?.ask}`]);
    assert.equal(answer.stdout, '303', answer.stderr);
    const started = Date.now();
    await eventually('22 answers through the lease', async () => ((await banner('operator', address, 22)) === 'SSH-2.0-' ? true : undefined), 20_000, 200);
    process.stderr.write(`ssh reachable ${Date.now() - started} ms after Accept\n`);
    assert.equal(await s.http('operator', `http://${address}/`), 'site=site1 device=dev1', 'web still answers');
    const shown = await s.ticket(opened.ticket);
    assert.deepEqual(shown.leases.find((l: { device: string }) => l.device === 'dev1')?.services, { services: ['web', 'ssh'], ports: [] });
  });
});
