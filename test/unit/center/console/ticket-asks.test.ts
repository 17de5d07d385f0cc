// The console's services per lease: only matching links, and the Ask for more form read before anything is asked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reachUrls } from '../../../../src/center/console/format.ts';
import { readAskForm } from '../../../../src/center/console/ticket-asks.ts';

test('links follow what a lease admits', () => {
  const labels = (services: Parameters<typeof reachUrls>[1]) => reachUrls('100.64.0.5', services).map((u) => u.url);
  assert.deepEqual(labels('all'), ['ssh://100.64.0.5', 'http://100.64.0.5/']);
  assert.deepEqual(labels(undefined), ['ssh://100.64.0.5', 'http://100.64.0.5/'], 'a center before services: everything');
  assert.deepEqual(labels({ services: ['web'], ports: [] }), ['http://100.64.0.5/', 'https://100.64.0.5/']);
  assert.deepEqual(labels({ services: ['ssh'], ports: [] }), ['ssh://100.64.0.5']);
  assert.deepEqual(labels({ services: ['printing'], ports: [{ proto: 'udp', port: 22 }, { proto: 'tcp', port: 8080 }] }), [], 'udp/22 is no ssh; 8080 is not obvious');
  assert.deepEqual(labels({ services: [], ports: [{ proto: 'tcp', port: 22 }] }), ['ssh://100.64.0.5']);
  assert.deepEqual(reachUrls('fd00::5', { services: ['web'], ports: [] }).map((u) => u.url), ['http://[fd00::5]/', 'https://[fd00::5]/']);
});

test('the ask form: ticked services and typed ports, or everything', () => {
  assert.deepEqual(readAskForm({ _csrf: 'x', device: ' NAS ', services: ['ssh', 'web'], ports: '8080 udp/554' }),
    { device: 'nas', services: { services: ['ssh', 'web'], ports: [{ proto: 'tcp', port: 8080 }, { proto: 'udp', port: 554 }] } });
  assert.deepEqual(readAskForm({ _csrf: 'x', device: 'pc', services: 'all' }), { device: 'pc', services: 'all' });
});

for (const [what, body] of [
  ['no device', { device: '  ', services: 'ssh' }],
  ['a device name that is not one', { device: 'a b/c', services: 'ssh' }],
  ['nothing asked', { device: 'nas' }],
  ['an unknown service', { device: 'nas', services: 'telnet' }],
  ['port 0', { device: 'nas', ports: '0' }],
  ['port 65536', { device: 'nas', ports: '65536' }],
  ['too many ports', { device: 'nas', ports: Array.from({ length: 17 }, (_, i) => String(i + 1)).join(' ') }],
  ['everything and a service', { device: 'nas', services: ['all', 'ssh'] }],
] as const) {
  test(`the ask form refuses ${what}`, () => {
    assert.throws(() => readAskForm({ _csrf: 'x', ...body } as never), { code: 'BAD_REQUEST' });
  });
}
