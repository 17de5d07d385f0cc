// The tracker's parse of real conntrack output captured in a netns gateway with accounting on: DESTROY events carry
// the final byte counts, a per-address listing the counts so far, and a connection made before accounting has none.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { connectionsTo, parseConntrack } from '../../../src/dataplane/conntrack-parse.ts';
import { listArgv } from '../../../src/dataplane/conntrack.ts';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const LEASE = '100.64.9.5';

void test('a DESTROY event carries the final counts each way, under the same key as its NEW event', () => {
  const seen = connectionsTo(parseConntrack(fixture('conntrack-destroy.txt')), [LEASE], 0);
  const http = seen.filter((c) => c.key === '3054273953');
  assert.deepEqual(http.map((c) => [c.port, c.ended ?? false, c.bytes]), [
    [80, false, undefined],
    [80, true, { toDevice: 394, fromDevice: 1006 }],
  ]);
  const ping = seen.filter((c) => c.protocol === 'icmp');
  assert.deepEqual(ping.map((c) => [c.port, c.ended ?? false, c.bytes]), [[null, false, undefined], [null, true, { toDevice: 84, fromDevice: 84 }]]);
  assert.equal(seen.every((c) => c.address === LEASE && c.lanAddress === '192.168.77.10'), true, 'the refused port of the gateway itself is not a lease connection');
  assert.equal(http[1]?.at, 1_796_154_047_122, 'dated by the kernel\'s event time');
});

void test('a per-address listing gives the counts so far; a connection made before accounting was on has none', () => {
  const listed = connectionsTo(parseConntrack(fixture('conntrack-list-acct.txt')), [LEASE], 1_796_154_300_000);
  assert.deepEqual(listed.map((c) => [c.key, c.bytes]), [['447706291', undefined], ['2467750706', { toDevice: 446, fromDevice: 1028 }]]);
  assert.equal(listed.some((c) => c.ended === true), false, 'a listed connection is not over');
});

void test('the listing asks the kernel for one leased address only, never the whole table', () => {
  assert.deepEqual(listArgv(LEASE), ['conntrack', '-L', '--orig-dst', LEASE, '-o', 'extended,id']);
});
