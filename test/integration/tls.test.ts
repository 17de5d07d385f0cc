// The center over HTTPS: agents and the CLI trust it only through --center-ca; an impostor's certificate is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually.ts';
import { freePort, keyhole, Processes } from '../support/processes.ts';
import { makeCa } from '../support/tls-ca.ts';

describe('the center over HTTPS', { timeout: 120_000 }, () => {
  let dir: string;
  let procs: Processes;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-tls-'));
    makeCa(dir, 'real-ca', true);
    makeCa(dir, 'impostor-ca', false);
    for (const name of ['enroll', 'operator']) {
      writeFileSync(join(dir, name), `${name}-tls-secret-0123456789\n`, { mode: 0o600 });
      chmodSync(join(dir, name), 0o600);
    }
    writeFileSync(join(dir, 'hosts'), '192.168.1.11 dev1\n');
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    procs = new Processes(dir);
    procs.start('center', ['center', '--listen', `127.0.0.1:${port}`, '--db', join(dir, 'center.db'), '--enroll-secret-file', join(dir, 'enroll'),
      '--operator-token-file', join(dir, 'operator'), '--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key')]);
    await eventually('the center', async () => {
      const result = await keyhole(['pool', '--json', '--center', url, '--center-ca', join(dir, 'real-ca.pem'), '--token-file', join(dir, 'operator')]);
      return result.code === 0 ? true : undefined;
    }, 30_000);
  });

  after(async () => {
    await procs?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const site = async (name: string, ca: string) => ['site', '--center', url, '--center-ca', join(dir, ca), '--id', name, '--enroll-secret-file', join(dir, 'enroll'),
    '--hosts', join(dir, 'hosts'), '--lan-listen', `127.0.0.1:${await freePort()}`, '--lan', '192.168.1.0/24', '--dataplane', 'dry-run', '--state-dir', join(dir, name)];

  test('the CLI refuses a center its CA did not sign, and talks to the genuine one', async () => {
    const impostor = await keyhole(['pool', '--center', url, '--center-ca', join(dir, 'impostor-ca.pem'), '--token-file', join(dir, 'operator')]);
    assert.equal(impostor.code, 6);
    assert.match(impostor.stderr, /cannot reach the center.*(certificate|self.signed|issuer)/i);
    const system = await keyhole(['pool', '--center', url, '--token-file', join(dir, 'operator')]);
    assert.equal(system.code, 6, 'the system CAs do not know the lab CA either');
    const genuine = await keyhole(['pool', '--json', '--center', url, '--center-ca', join(dir, 'real-ca.pem'), '--token-file', join(dir, 'operator')]);
    assert.equal(genuine.code, 0, genuine.stderr);
    assert.equal(JSON.parse(genuine.stdout).cidr, '100.64.0.0/10');
  });

  test('a site trusting another CA never enrolls; one trusting the center\'s CA does', async () => {
    const wary = procs.start('wary', await site('wary', 'impostor-ca.pem'));
    procs.start('trusting', await site('trusting', 'real-ca.pem'));
    const operator = ['sites', 'list', '--json', '--center', url, '--center-ca', join(dir, 'real-ca.pem'), '--token-file', join(dir, 'operator')];
    const sites = await eventually('the trusting site enrolled', async () => {
      const list = JSON.parse((await keyhole(operator)).stdout) as { site: string }[];
      return list.some((s) => s.site === 'trusting') ? list : undefined;
    }, 30_000);
    // Not a pause: the wary site must have tried (and failed) again after the trusting one got in.
    const retries = () => readFileSync(wary.log, 'utf8').split('retrying enrollment').length - 1;
    const seen = retries();
    await eventually('the wary site retried its enrollment once more', () => (retries() > seen ? true : undefined), 30_000);
    const again = JSON.parse((await keyhole(operator)).stdout) as { site: string }[];
    assert.deepEqual(again.map((s) => s.site), sites.map((s) => s.site).filter((s) => s !== 'wary'));
    assert.ok(!again.some((s) => s.site === 'wary'));
    assert.equal(wary.child.exitCode, null, 'the wary site keeps running and retrying');
    assert.match(readFileSync(wary.log, 'utf8'), /retrying enrollment/);
    assert.match(readFileSync(wary.log, 'utf8'), /certificate|self.signed|issuer/i);
  });
});
