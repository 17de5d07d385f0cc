import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Applier, type ApplyReason } from '../../../src/agent/applier.ts';

const log = pino({ level: 'silent' });

interface State { revision: number; tag?: string }

/** An apply the test releases by hand, so it can offer states while one runs. */
function gatedApplier(signal = new AbortController().signal) {
  const calls: { revision: number; reason: ApplyReason; tag?: string }[] = [];
  const gates: (() => void)[] = [];
  let failNext = false;
  const applier = new Applier<State>({
    log,
    apply: async (state, reason) => {
      calls.push({ revision: state.revision, reason, ...(state.tag === undefined ? {} : { tag: state.tag }) });
      await new Promise<void>((resolve) => gates.push(resolve));
      if (failNext) { failNext = false; throw new Error('apply broke'); }
    },
  }, signal);
  const release = async () => {
    const gate = gates.shift();
    assert.ok(gate !== undefined, 'an apply is running');
    gate();
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return { applier, calls, release, failOnce: () => { failNext = true; } };
}

test('changes arriving while an apply runs coalesce: only the newest is applied next', async () => {
  const { applier, calls, release } = gatedApplier();
  applier.offer({ revision: 1 }, 'start');
  assert.equal(applier.busy, true);
  applier.offer({ revision: 2 }, 'watch');
  applier.offer({ revision: 3 }, 'watch');
  applier.offer({ revision: 4 }, 'watch');
  await release();
  await release();
  await applier.idle();
  assert.deepEqual(calls, [{ revision: 1, reason: 'start' }, { revision: 4, reason: 'watch' }]);
  assert.equal(applier.busy, false);
});

test('a forced resync that waits is not turned into a plain watch apply by a message arriving after it', async () => {
  const { applier, calls, release } = gatedApplier();
  applier.offer({ revision: 1 }, 'start');
  applier.offer({ revision: 1, tag: 'fetched' }, 'resync');
  applier.offer({ revision: 2 }, 'watch');
  await release();
  await release();
  await applier.idle();
  assert.deepEqual(calls, [{ revision: 1, reason: 'start' }, { revision: 2, reason: 'resync' }], 'the newer state, still forced');
});

test('a watch message at or below the applied revision is dropped; a resync of it is applied', async () => {
  const { applier, calls, release } = gatedApplier();
  applier.offer({ revision: 5 }, 'start');
  await release();
  await applier.idle();
  applier.offer({ revision: 5 }, 'watch');
  applier.offer({ revision: 4 }, 'watch');
  assert.equal(applier.busy, false, 'nothing to do');
  applier.offer({ revision: 5 }, 'resync');
  await release();
  await applier.idle();
  assert.deepEqual(calls.map((c) => `${c.revision}/${c.reason}`), ['5/start', '5/resync']);
});

test('the newest revision is kept for repairs: an older watch message does not replace it, a resync does', async () => {
  const { applier, release } = gatedApplier();
  applier.offer({ revision: 6 }, 'start');
  applier.offer({ revision: 3, tag: 'late' }, 'watch');
  assert.equal(applier.last?.revision, 6, 'a late, older message is not the state to repair to');
  applier.offer({ revision: 2, tag: 'center restored' }, 'resync');
  assert.deepEqual(applier.last, { revision: 2, tag: 'center restored' }, 'a full fetch is the truth, even with a lower revision');
  await release();
  await release();
  await applier.idle();
});

test('an apply that fails is not counted as applied: the same revision from the watch stream is tried again', async () => {
  const { applier, calls, release, failOnce } = gatedApplier();
  failOnce();
  applier.offer({ revision: 2 }, 'start');
  await release();
  await applier.idle();
  applier.offer({ revision: 2 }, 'watch');
  await release();
  await applier.idle();
  assert.deepEqual(calls.map((c) => `${c.revision}/${c.reason}`), ['2/start', '2/watch']);
});

test('after the signal aborts, waiting states are not applied', async () => {
  const controller = new AbortController();
  const { applier, calls, release } = gatedApplier(controller.signal);
  applier.offer({ revision: 1 }, 'start');
  applier.offer({ revision: 2 }, 'watch');
  controller.abort();
  await release();
  await applier.idle();
  assert.deepEqual(calls.map((c) => c.revision), [1]);
});

test('a watch message older than a waiting state does not take its place (a new stream\'s late first state)', async () => {
  const { applier, calls, release } = gatedApplier();
  applier.offer({ revision: 2 }, 'watch');
  applier.offer({ revision: 3, tag: 'tunnel' }, 'resync');
  applier.offer({ revision: 2, tag: 'late' }, 'watch');
  await release();
  await release();
  await applier.idle();
  assert.deepEqual(calls.map((c) => `${c.revision}/${c.reason}/${c.tag ?? ''}`), ['2/watch/', '3/resync/tunnel']);
  assert.equal(applier.last?.tag, 'tunnel');
});
