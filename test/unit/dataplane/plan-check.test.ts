// Plan checks: a bad plan is refused before anything is touched, and nothing unsafe reaches a config file or a path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../src/protocol/errors.ts';
import { checkHubPlan, checkIfaceName, checkSitePlan } from '../../../src/dataplane/plan-check.ts';
import type { SitePlan } from '../../../src/dataplane/types.ts';
import { generateKeyPair } from '../../../src/agent/key-pair.ts';

const site = generateKeyPair();
const hub = generateKeyPair();

function plan(): SitePlan {
  return {
    tunnel: {
      iface: 'kh-site0', privateKey: site.privateKey, listenPort: null, addresses: ['100.64.0.2/32', '10.9.0.1/24'], routes: ['100.64.0.1/32'],
      peers: [{ publicKey: hub.publicKey, presharedKey: generateKeyPair().privateKey, endpoint: 'hub.example.net:51820', allowedIps: ['100.64.0.1/32'], keepalive: 25 }],
    },
    nat: { iface: 'kh-site0', mappings: [{ address: '100.64.0.5', lanAddress: '192.168.1.10' }, { address: 'fd00::5', lanAddress: 'fd01::10' }], gatewayAddress: '100.64.0.2', gatewayOpen: false, snatAddress: '192.168.1.1' },
  };
}

const refuses = (mutate: (p: SitePlan) => void, field: RegExp): void => {
  const p = plan();
  mutate(p);
  assert.throws(() => { checkSitePlan(p); }, (error: unknown) => error instanceof InputError && field.test(error.field ?? ''));
};

void test('a good plan passes, and so does an empty one', () => {
  checkSitePlan(plan());
  checkSitePlan({ tunnel: null, nat: null });
  checkHubPlan({ tunnel: null, filter: { iface: 'kh-hub', address: '100.64.0.1', block: '100.64.0.0/24' } });
});

void test('interface names: at most 15 safe characters, never a path', () => {
  for (const bad of ['', 'a'.repeat(16), '../etc', 'a/b', '.', '..', 'wg 0', 'wg\n0']) assert.throws(() => { checkIfaceName(bad); }, InputError);
  checkIfaceName('kh-0123456789ab');
});

void test('nothing with a newline or a bad key reaches the wg config', () => {
  refuses((p) => { p.tunnel!.peers[0]!.endpoint = '1.2.3.4:51820\n[Peer]'; }, /endpoint/);
  refuses((p) => { p.tunnel!.peers[0]!.endpoint = '1.2.3.4:0'; }, /endpoint/);
  refuses((p) => { p.tunnel!.peers[0]!.publicKey = 'x'; }, /publicKey/);
  refuses((p) => { p.tunnel!.peers[0]!.presharedKey = `${hub.publicKey}\nEndpoint = 6.6.6.6:1`; }, /presharedKey/);
  refuses((p) => { p.tunnel!.privateKey = `${site.privateKey} `; }, /privateKey/);
  refuses((p) => { p.tunnel!.peers[0]!.allowedIps = ['100.64.0.1/33']; }, /allowedIps/);
  refuses((p) => { p.tunnel!.peers[0]!.keepalive = -1; }, /keepalive/);
  refuses((p) => { p.tunnel!.peers.push({ ...p.tunnel!.peers[0]! }); }, /peers/);
});

void test('addresses keep host bits, routes may not have them', () => {
  refuses((p) => { p.tunnel!.routes = ['100.64.0.1/24']; }, /routes/);
  refuses((p) => { p.tunnel!.addresses = ['300.1.1.1/32']; }, /addresses/);
  refuses((p) => { p.tunnel!.listenPort = 70000; }, /listenPort/);
});

void test('NAT mappings: addresses, one family per mapping, no pool address twice', () => {
  refuses((p) => { p.nat!.mappings.push({ address: '100.64.0.5', lanAddress: '192.168.1.11' }); }, /mappings\[2\]\.address/);
  refuses((p) => { p.nat!.mappings[0]!.lanAddress = 'fd01::1'; }, /mappings\[0\]/);
  refuses((p) => { p.nat!.mappings[0]!.lanAddress = '192.168.1.10; drop'; }, /lanAddress/);
  refuses((p) => { p.nat!.snatAddress = 'lan'; }, /snatAddress/);
  refuses((p) => { p.nat!.gatewayAddress = ''; }, /gatewayAddress/);
});
