import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { CenterClient } from '../../../src/agent/center-client.ts';
import type { HostFile } from '../../../src/site/host-file.ts';
import { SiteService } from '../../../src/site/site-service.ts';

const credentials = { site: 's1', center: 'http://127.0.0.1:1', publicKey: 'k', secret: Buffer.alloc(32).toString('base64'), enrolledAt: 0 };

/** A service whose center answers every fault report with `answer`; `woken` counts the onWork calls. */
function service(answer: unknown) {
  const calls: string[] = [];
  const counts = { woken: 0 };
  const client = { call: async (_method: string, path: string) => { calls.push(path); return answer; } } as unknown as CenterClient;
  const hosts = { get: () => ({ devices: ['gateway'], primary: new Map([['gateway', 'gateway']]), names: new Map() }) } as unknown as HostFile;
  const svc = new SiteService({ client, hosts, button: null, log: pino({ level: 'silent' }), credentials: () => credentials as never, onWork: () => { counts.woken++; } });
  return { svc, calls, counts };
}

test('a fault report whose answer carries the ticket the center opened wakes the stream (an idle site would see it only at its next check-in)', async () => {
  const { svc, counts } = service({ fault: 1, code: 'WAN_DOWN', ticket: { ticket: 7, state: 'waiting' }, held: null });
  const answer = await svc.reportFault('WAN_DOWN', undefined, AbortSignal.timeout(5000));
  assert.equal(answer.ticket?.ticket, 7);
  assert.equal(counts.woken, 1);
});

test('a fault the center deduplicated or held opens no ticket and does not wake the stream', async () => {
  const { svc, counts, calls } = service({ fault: 1, code: 'WAN_DOWN', ticket: null, held: 'incident 3' });
  const answer = await svc.reportFault('WAN_DOWN', 'x', AbortSignal.timeout(5000));
  assert.equal(answer.ticket, null);
  assert.equal(answer.held, 'incident 3');
  assert.equal(counts.woken, 0);
  assert.equal(calls.length, 1);
});
