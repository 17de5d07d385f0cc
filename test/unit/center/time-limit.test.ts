// The time limit's bounds and deadline math (tickets/time-limit.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CenterConfig } from '../../../src/center/context.ts';
import { checkTimeLimit, extendedDeadline, timeBounds, TIME_DEFAULTS, warnAt } from '../../../src/center/tickets/time-limit.ts';
import { KeyholeError } from '../../../src/protocol/errors.ts';

const M = 60_000;
const config = (extra: Partial<CenterConfig>): CenterConfig => ({ ticketTtlMs: 8 * 60 * M, ...extra }) as CenterConfig;

void test('the bounds: the defaults (2h, 15m, 10m), and a default above --ticket-ttl is brought down to it', () => {
  assert.deepEqual(timeBounds(config({})), { ...TIME_DEFAULTS, maxMs: 8 * 60 * M });
  assert.deepEqual(timeBounds(config({ ticketTtlMs: 60 * M })), { defaultMs: 60 * M, minMs: 15 * M, maxMs: 60 * M, warnBeforeMs: 10 * M });
  assert.deepEqual(timeBounds(config({ ticketTtlMs: 5 * M })), { defaultMs: 5 * M, minMs: 5 * M, maxMs: 5 * M, warnBeforeMs: 10 * M });
});

void test('a requested limit inside the bounds is kept, the edges included; outside, NaN or fractional: BAD_REQUEST on timeLimitMs', () => {
  const bounds = timeBounds(config({}));
  assert.equal(checkTimeLimit(bounds, undefined), 2 * 60 * M);
  assert.equal(checkTimeLimit(bounds, 15 * M), 15 * M);
  assert.equal(checkTimeLimit(bounds, 8 * 60 * M), 8 * 60 * M);
  for (const bad of [15 * M - 1, 8 * 60 * M + 1, -M, 0, Number.NaN, Infinity, 1.5]) {
    assert.throws(() => checkTimeLimit(bounds, bad), (e: unknown) => e instanceof KeyholeError && e.code === 'BAD_REQUEST' && e.field === 'timeLimitMs', String(bad));
  }
});

void test('an extension moves the deadline later, never past start + the longest limit; the warning is warnBefore ahead', () => {
  const bounds = timeBounds(config({}));
  const t = { startedAt: 1000, deadlineAt: 1000 + 30 * M };
  assert.equal(extendedDeadline(bounds, t, 30 * M), 1000 + 60 * M);
  assert.equal(extendedDeadline(bounds, t, 24 * 60 * M), 1000 + 8 * 60 * M);
  assert.equal(warnAt(bounds, t.deadlineAt), 1000 + 20 * M);
});
