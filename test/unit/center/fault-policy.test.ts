// The fault policy's pure parts: the token bucket (GCRA) and per-code enable; and the console's one row per incident.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeEnabled, takeToken, type FaultPolicy } from '../../../src/center/fault-policy.ts';
import { incidentsRegion } from '../../../src/center/console/fleet-pages.ts';
import { consoleText } from '../../../src/center/console/text.ts';

const policy: FaultPolicy = { disabled: ['lan-flap'], perMinute: 6, cap: 10, reserve: 2 };

test('the bucket lets N through at once, then one per 60/N s; it refills while idle and never beyond N', () => {
  let tat = 0;
  const now = 1_800_000_000_000;
  for (let i = 0; i < 6; i++) {
    const next = takeToken(policy, tat, now);
    assert.notEqual(next, null, `token ${i + 1}`);
    tat = next as number;
  }
  assert.equal(takeToken(policy, tat, now), null, 'the seventh in the same instant is refused');
  assert.equal(takeToken(policy, tat, now + 9_999), null);
  assert.notEqual(takeToken(policy, tat, now + 10_000), null, 'one more after 10 s');
  let later = takeToken(policy, tat, now + 3_600_000) as number;
  let taken = 1;
  while (takeToken(policy, later, now + 3_600_000) !== null) { later = takeToken(policy, later, now + 3_600_000) as number; taken++; }
  assert.equal(taken, 6, 'an hour idle refills to N, not 360');
  assert.equal(takeToken({ ...policy, perMinute: 0 }, 0, now), null, 'rate 0: no automatic ticket');
});

test('per-code enable: a listed code and `*` are off', () => {
  assert.equal(codeEnabled(policy, 'lan-flap'), false);
  assert.equal(codeEnabled(policy, 'wan-down'), true);
  assert.equal(codeEnabled({ ...policy, disabled: ['*'] }, 'wan-down'), false);
});

test('the console shows a storm as one row with its size, start and reasons; no incident, no table', () => {
  const now = Date.UTC(2026, 11, 1, 14, 30);
  const text = incidentsRegion(consoleText('en'), [{ code: 'wan-down', sites: 3412, reports: 3500, since: Date.UTC(2026, 11, 1, 14, 2), lastSeenAt: now, held: { rate: 3400, cap: 12 }, ticketsOpen: 30 }], now).text;
  assert.equal(text.split('<tbody>')[1]?.match(/<tr>/g)?.length, 1);
  assert.match(text, /wan-down/);
  assert.match(text, /3,412 sites/);
  assert.match(text, /14:02/);
  assert.match(text, /rate: 3400, cap: 12/);
  assert.equal(incidentsRegion(consoleText('en'), [], now).text, '');
});
