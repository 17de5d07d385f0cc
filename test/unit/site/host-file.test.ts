import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostFile } from '../../../src/site/host-file.ts';
import { sitePlan } from '../../../src/site/site-plan.ts';
import { generateKeyPair } from '../../../src/agent/key-pair.ts';

const T0 = 1_796_122_000_000;
const lease = (expiry: number, mac: string, address: string, name: string): string => `${Math.round(expiry / 1000)} ${mac} ${address} ${name} *`;

function world() {
  const dir = mkdtempSync(join(tmpdir(), 'kh-hosts-'));
  const clock = { now: T0 };
  const hostsPath = join(dir, 'hosts');
  const leasesPath = join(dir, 'dnsmasq.leases');
  writeFileSync(hostsPath, '192.168.1.11 dev1\n192.168.1.12 printer\n');
  writeFileSync(leasesPath, [
    lease(T0 + 60_000, '02:00:00:00:00:01', '192.168.1.50', 'laptop'),
    lease(T0 + 60_000, '02:00:00:00:00:02', '192.168.1.51', 'dev1'),
    lease(T0 + 60_000, '02:00:00:00:00:03', '192.168.1.52', 'gateway'),
    lease(T0 - 1000, '02:00:00:00:00:04', '192.168.1.53', 'stale'),
    lease(T0 + 60_000, '02:00:00:00:00:05', '192.168.1.54', '*'),
  ].join('\n'));
  const hosts = new HostFile([{ path: leasesPath, format: 'dnsmasq' }, { path: hostsPath, format: 'hosts' }], '192.168.1.1', { now: () => clock.now });
  return { dir, clock, hostsPath, leasesPath, hosts, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

test('static names win over DHCP ones; gateway cannot be taken; expired and nameless leases are left out', () => {
  using w = world();
  const table = w.hosts.get();
  assert.deepEqual(table.devices, ['gateway', 'dev1', 'printer', 'laptop']);
  assert.equal(table.names.get('dev1'), '192.168.1.11', 'the hosts file says where dev1 is, whatever a DHCP client calls itself');
  assert.equal(table.names.get('gateway'), '192.168.1.1');
  assert.equal(table.names.get('laptop'), '192.168.1.50');
  assert.equal(table.names.has('stale'), false);
  assert.deepEqual([...(table.dhcp?.keys() ?? [])], ['laptop']);
});

test('a rewritten lease file is read again: the new address, a lease that ended, and what the plan says of it', () => {
  using w = world();
  const changes: string[] = [];
  w.hosts.onChange((table) => changes.push(table.names.get('laptop') ?? 'gone'));
  assert.equal(w.hosts.get().names.get('laptop'), '192.168.1.50');
  // dnsmasq rewrites its file in place; dhcpd and Kea's lfc rename a new one over it: both are seen.
  writeFileSync(`${w.leasesPath}.new`, lease(T0 + 120_000, '02:00:00:00:00:01', '192.168.1.60', 'laptop'));
  renameSync(`${w.leasesPath}.new`, w.leasesPath);
  assert.equal(w.hosts.refresh(), true);
  assert.equal(w.hosts.get().names.get('laptop'), '192.168.1.60');
  assert.equal(w.hosts.refresh(), false, 'nothing changed: no second notice');
  w.clock.now = T0 + 120_001;
  const table = w.hosts.get();
  assert.equal(table.names.has('laptop'), false, 'a lease that ended by the clock is gone without the file changing');
  assert.deepEqual(changes, ['192.168.1.60', 'gone']);
  const keys = generateKeyPair();
  const { leases } = sitePlan({
    revision: 3, tickets: [], leases: [{ device: 'laptop', address: '100.64.0.3' }],
    tunnel: { hub: 'hub1', endpoint: '198.18.0.1:51820', hubPublicKey: keys.publicKey, hubAddress: '100.64.0.1', address: '100.64.0.2', keepalive: 25, hubEpoch: 1 },
  }, table, { iface: 'khs-t', privateKey: keys.privateKey, presharedKey: keys.privateKey, snatAddress: null });
  assert.deepEqual(leases, [{ device: 'laptop', address: '100.64.0.3', lanAddress: null, error: 'device laptop has no DHCP lease any more (it had 192.168.1.60): it left the LAN or its lease expired' }]);
});

test('a missing lease file is an empty one until the DHCP server writes it; a broken hosts file keeps its last good table', () => {
  using w = world();
  rmSync(w.leasesPath);
  assert.equal(w.hosts.get().names.has('laptop'), false);
  writeFileSync(w.hostsPath, '192.168.1 broken\n');
  assert.equal(w.hosts.get().names.get('printer'), '192.168.1.12');
  writeFileSync(w.leasesPath, lease(T0 + 60_000, '02:00:00:00:00:01', '192.168.1.70', 'laptop'));
  assert.equal(w.hosts.get().names.get('laptop'), '192.168.1.70');
  assert.throws(() => new HostFile([{ path: w.hostsPath, format: 'hosts' }], '192.168.1.1'), /line 1: '192.168.1' is not an IP address/);
  assert.throws(() => new HostFile([{ path: join(w.dir, 'nope'), format: 'auto' }], '192.168.1.1'), /cannot read the host table .*nope: ENOENT/);
});

test('auto detects each file; the watcher notices a change without anyone asking', async () => {
  using w = world();
  const hosts = new HostFile([{ path: w.hostsPath, format: 'auto' }, { path: w.leasesPath, format: 'auto' }], '192.168.1.1', { now: () => w.clock.now, pollMs: 60_000 });
  assert.equal(hosts.get().names.get('laptop'), '192.168.1.50');
  const controller = new AbortController();
  const changed = new Promise<string | undefined>((resolve) => hosts.onChange((table) => resolve(table.names.get('tablet'))));
  hosts.watch(controller.signal);
  writeFileSync(w.leasesPath, lease(T0 + 60_000, '02:00:00:00:00:09', '192.168.1.80', 'tablet'));
  assert.equal(await changed, '192.168.1.80');
  controller.abort();
});
