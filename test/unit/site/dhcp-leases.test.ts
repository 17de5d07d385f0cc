import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDnsmasqLeases } from '../../../src/site/leases-dnsmasq.ts';
import { parseIscLeases } from '../../../src/site/leases-isc.ts';
import { parseKeaLeases } from '../../../src/site/leases-kea.ts';
import { detectFormat } from '../../../src/site/hosts-format.ts';
import { dhcpHostname } from '../../../src/site/dhcp-lease.ts';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

test('dnsmasq: a lease file dnsmasq 2.90 wrote (one client without a hostname)', () => {
  assert.deepEqual(parseDnsmasqLeases(fixture('dnsmasq.leases')), [
    { address: '192.168.77.82', hostname: null, mac: '9e:3e:eb:c3:6b:8d', expiresAt: 1796122398000 },
    { address: '192.168.77.12', hostname: 'dev1', mac: 'fe:e7:94:20:75:c5', expiresAt: 1796122398000 },
  ]);
});

test('dnsmasq: infinite leases, DHCPv6 lines after the duid line, torn and hostile lines skipped', () => {
  const text = [
    '0 02:00:00:00:00:01 192.168.1.20 Printer 01:02:00:00:00:00:01',
    'duid 00:01:00:01:2e:8f:a2:19:02:42:ac:11:00:02',
    '1796122398 1234567 fd00::20 nas 00:01:00:01:2e:8f:a2:19:02:42:ac:11:00:09',
    '1796122398 02:00:00:00:00:02 192.168.1.',
    '1796122398 02:00:00:00:00:03 not-an-ip dev3 *',
    '1796122398 02:00:00:00:00:04 192.168.1.24 ../../etc *',
    '17961223',
    '',
  ].join('\n');
  assert.deepEqual(parseDnsmasqLeases(text), [
    { address: '192.168.1.20', hostname: 'printer', mac: '02:00:00:00:00:01', expiresAt: null },
    { address: 'fd00::20', hostname: 'nas', mac: null, expiresAt: 1796122398000 },
    { address: '192.168.1.24', hostname: null, mac: '02:00:00:00:00:04', expiresAt: 1796122398000 },
  ]);
});

test('ISC dhcpd: the last block of an address is in force, only active bindings count, ends never', () => {
  assert.deepEqual(parseIscLeases(fixture('dhcpd.leases')), [
    { address: '192.168.1.101', hostname: 'printer', mac: '02:42:ac:11:00:02', expiresAt: Date.UTC(2026, 11, 1, 22, 0, 0) },
    { address: '192.168.1.104', hostname: 'camera', mac: '02:42:ac:11:00:05', expiresAt: null },
  ]);
  assert.deepEqual(parseIscLeases('lease 10.0.0.5 {\n  ends epoch 1796122398; # Tue Dec 01 10:53:18 2026\n  binding state active;\n  client-hostname "x1";\n}\n'),
    [{ address: '10.0.0.5', hostname: 'x1', mac: null, expiresAt: 1796122398000 }]);
});

test('Kea: columns by the header, deleted (lifetime 0) and non-default states end a lease, FQDNs lose their dot', () => {
  assert.deepEqual(parseKeaLeases(fixture('kea-leases4.csv')), [
    { address: '192.168.1.150', hostname: 'plc.example.org', mac: '02:42:ac:11:00:0a', expiresAt: 1796126400000 },
    { address: '192.168.1.151', hostname: null, mac: '02:42:ac:11:00:0b', expiresAt: 1796126400000 },
    { address: '192.168.1.154', hostname: 'old', mac: '02:42:ac:11:00:0e', expiresAt: 1796122000000 },
  ]);
  assert.deepEqual(parseKeaLeases('not,a,kea,file\n1,2,3,4\n'), []);
});

test('format detection: each server\'s file and /etc/hosts told apart', () => {
  assert.equal(detectFormat(fixture('dnsmasq.leases')), 'dnsmasq');
  assert.equal(detectFormat(fixture('dhcpd.leases')), 'isc');
  assert.equal(detectFormat(fixture('kea-leases4.csv')), 'kea');
  assert.equal(detectFormat('# lab\n192.168.1.11 dev1\n192.168.1.12 dev2 alias\n'), 'hosts');
  assert.equal(detectFormat('1796122398 fe:e7:94:20:75:c5 192.168.77.12 dev1 *\n192.168.1.12 dev2\n'), 'hosts', 'one hosts line: not dnsmasq');
  assert.equal(detectFormat(''), 'hosts');
});

test('a DHCP hostname becomes a device name only when it is a valid hostname', () => {
  assert.equal(dhcpHostname('Dev1'), 'dev1');
  assert.equal(dhcpHostname('plc.example.org.'), 'plc.example.org');
  for (const bad of ['*', '', ' ', 'a b', 'x\u0000', '-lead', 'a..b', 'x'.repeat(64), '<script>']) assert.equal(dhcpHostname(bad), null, bad);
});
