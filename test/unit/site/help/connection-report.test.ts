// The site's connections report to the center: retried with jittered backoff while the center is away, done on a refusal, bounded, stopped by abort.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { KeyholeError, type ErrorCode } from '../../../../src/protocol/errors.ts';
import { reportConnections, type ConnectionReportOptions } from '../../../../src/site/help/connection-report.ts';
import { JobRecorder } from '../../../../src/site/help/recorder.ts';

const log = pino({ level: 'silent' });
const connections = [{ at: 1, device: 'nas', address: '100.64.0.2', port: 22, protocol: 'tcp', toDevice: 1, fromDevice: 2, ended: true }];

/** A clock that the waits move; `answers` is what each try gets (an error code, or success). */
function world(answers: (ErrorCode | 'ok')[], over: Partial<ConnectionReportOptions> = {}) {
  let clock = 0;
  const waits: number[] = [];
  let tries = 0;
  const options: ConnectionReportOptions = {
    log, signal: new AbortController().signal, random: () => 0.5, now: () => clock,
    wait: async (ms) => { waits.push(ms); clock += ms; },
    send: async () => {
      const answer = answers[Math.min(tries++, answers.length - 1)];
      if (answer !== 'ok') throw new KeyholeError(answer ?? 'INTERNAL', 'refused');
    },
    ...over,
  };
  return { options, waits, tries: () => tries };
}

test('a center that is away is tried again with growing, jittered waits until it takes the report', async () => {
  const w = world(['CENTER_UNREACHABLE', 'UNAVAILABLE', 'RATE_LIMITED', 'ok']);
  assert.equal(await reportConnections(w.options, 7, connections), 'sent');
  assert.equal(w.tries(), 4);
  assert.deepEqual(w.waits, [525, 1025, 2025], 'half of each doubling window (random 0.5) above the floor');
});

test('a TICKET_STATE refusal (an earlier report was taken) is done; another refusal is dropped at once', async () => {
  const done = world(['UNAVAILABLE', 'TICKET_STATE']);
  assert.equal(await reportConnections(done.options, 7, connections), 'already');
  assert.equal(done.tries(), 2);
  for (const code of ['TICKET_UNKNOWN', 'NOT_FOUND', 'BAD_REQUEST', 'SIGNATURE_BAD'] as const) {
    const refused = world([code]);
    assert.equal(await reportConnections(refused.options, 7, connections), 'refused', code);
    assert.equal(refused.tries(), 1, `${code} is not retried`);
  }
});

test('a center away for longer than the bound is given up, never past it; a plain Error counts as unreachable', async () => {
  let tries = 0;
  const w = world([], { giveUpMs: 60_000, send: async () => { tries++; throw new Error('ECONNREFUSED'); } });
  assert.equal(await reportConnections(w.options, 7, connections), 'gave-up');
  assert.deepEqual(w.waits, [525, 1025, 2025, 4025, 8025, 16025], 'the next wait (30 s) would end past the bound');
  assert.equal(tries, 7);
});

test('an abort stops the retries: while waiting, or before the first try', async () => {
  const stop = new AbortController();
  const w = world(['UNAVAILABLE'], { signal: stop.signal });
  w.options.wait = async () => { stop.abort(); };
  assert.equal(await reportConnections(w.options, 7, connections), 'aborted');
  assert.equal(w.tries(), 1);
  const before = world(['ok'], { signal: AbortSignal.abort() });
  assert.equal(await reportConnections(before.options, 7, connections), 'aborted');
  assert.equal(before.tries(), 0);
});

test('the recorder reports a closed ticket\'s connections once, after writing the site\'s copy; an open ticket is neither recorded nor reported', async () => {
  const written: number[] = [];
  const reported: [number, number][] = [];
  const state = { value: 'in_progress' as 'in_progress' | 'ended' };
  const recorder = new JobRecorder({
    site: () => 'site1', log, signal: new AbortController().signal,
    records: { has: (n: number) => written.includes(n), write: (r: { ticket: number }) => { written.push(r.ticket); } } as never,
    ticket: async (n) => ({ ticket: n, state: state.value, leases: [{ device: 'nas', address: '100.64.0.2' }], createdAt: 1, updatedAt: 2, endedAt: 3 }) as never,
    connections: () => [{ key: 'k', at: 2, device: 'nas', address: '100.64.0.2', port: 22, protocol: 'tcp', bytes: { toDevice: 5, fromDevice: 6 }, ended: true }],
    report: async (ticket, seen) => { reported.push([ticket, seen.length]); },
  });
  await recorder.update([{ ticket: 4, state: 'in_progress' }]);
  await recorder.update([]);
  assert.deepEqual([written, reported], [[], []], 'the center still says in progress: nothing yet');
  state.value = 'ended';
  await recorder.update([]);
  await recorder.update([]);
  assert.deepEqual([written, reported], [[4], [[4, 1]]]);
});

test('changes that arrive while a closed ticket is being fetched record and report it once (the bench saw every fourth reported twice)', async () => {
  const written: number[] = [];
  const reported: number[] = [];
  let fetches = 0;
  const answers: (() => void)[] = [];
  const recorder = new JobRecorder({
    site: () => 'site1', log, signal: new AbortController().signal,
    records: { has: (n: number) => written.includes(n), write: (r: { ticket: number }) => { written.push(r.ticket); } } as never,
    ticket: async (n) => {
      fetches++;
      await new Promise<void>((resolve) => { answers.push(resolve); });
      return { ticket: n, state: 'ended', leases: [{ device: 'nas', address: '100.64.0.2' }], createdAt: 1, updatedAt: 2, endedAt: 3 } as never;
    },
    connections: () => [],
    report: async (ticket) => { reported.push(ticket); },
  });
  await recorder.update([{ ticket: 4, state: 'in_progress' }]);
  const first = recorder.update([]);
  // Two more changes (other tickets' states) while the center's answer about ticket 4 is on its way.
  const second = recorder.update([]);
  const third = recorder.update([]);
  await new Promise((resolve) => setImmediate(resolve));
  for (const answer of answers) answer();
  await Promise.all([first, second, third]);
  assert.deepEqual({ fetches, written, reported }, { fetches: 1, written: [4], reported: [4] });
  await recorder.update([]);
  assert.deepEqual({ fetches, written, reported }, { fetches: 1, written: [4], reported: [4] }, 'recorded: never fetched again');
});
