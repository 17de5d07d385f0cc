// The job-record commands as real `bin/keyhole` processes: `tickets record N --json` prints a record whose signature checks; `record verify` refuses a changed file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyJobRecord } from '../../src/protocol/job-record.ts';
import { eventually } from '../support/eventually.ts';
import { addHub, freePort, keyhole, Processes } from '../support/processes.ts';

let dir = '';
let url = '';
let procs: Processes | undefined;
const operator = (): Record<string, string> => ({ KEYHOLE_CENTER: url, KEYHOLE_TOKEN_FILE: join(dir, 'operator') });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keyhole-record-cli-'));
  for (const name of ['enroll', 'operator']) {
    writeFileSync(join(dir, name), `${name}-${Math.random().toString(36).slice(2)}-0123456789abcdef\n`, { mode: 0o600 });
    chmodSync(join(dir, name), 0o600);
  }
  await addHub(join(dir, 'center.db'), 'hub1', join(dir, 'hub1.token'));
  writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n192.168.1.11 dev1\n');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  procs = new Processes(dir);
  procs.start('center', ['center', '--listen', `127.0.0.1:${port}`, '--db', join(dir, 'center.db'), '--enroll-secret-file', join(dir, 'enroll'),
    '--operator-token-file', join(dir, 'operator'), '--ready-timeout', '60s']);
  await eventually('the center to answer', async () => ((await fetch(`${url}/healthz`).catch(() => null))?.ok === true ? true : undefined));
  procs.start('hub1', ['hub', '--center', url, '--name', 'hub1', '--hub-token-file', join(dir, 'hub1.token'), '--endpoint', '127.0.0.1:51900',
    '--block', '100.64.0.0/24', '--capacity', '2', '--dataplane', 'dry-run', '--state-dir', join(dir, 'hub1'), '--resync', '2s']);
  procs.start('site1', ['site', '--center', url, '--id', 'site1', '--enroll-secret-file', join(dir, 'enroll'), '--hosts', join(dir, 'hosts'),
    '--lan-listen', `127.0.0.1:${await freePort()}`, '--lan', '192.168.1.0/24', '--dataplane', 'dry-run', '--state-dir', join(dir, 'site1'), '--resync', '2s']);
});

after(async () => {
  await procs?.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

test('tickets record N --json prints the center\'s signed record; record verify accepts it and refuses a tampered copy or another key', async () => {
  const opened = await eventually('the site to take a request', async () => {
    const answer = await keyhole(['site', 'request', '--state-dir', join(dir, 'site1'), '--requester', 'Ann', '--level', 'user', '--urgency', 'high', '--device', 'dev1', '--json']);
    return answer.code === 0 ? answer : undefined;
  }, 60_000);
  const ticket = (JSON.parse(opened.stdout) as { ticket: number }).ticket;
  const open = await keyhole(['tickets', 'record', String(ticket), '--json'], operator());
  assert.notEqual(open.code, 0, 'no record while the ticket is open');
  const ended = await keyhole(['tickets', 'end', String(ticket)], operator());
  assert.equal(ended.code, 0, ended.stderr);
  const shown = await keyhole(['tickets', 'record', String(ticket), '--json'], operator());
  assert.equal(shown.code, 0, shown.stderr);
  const keyAnswer = await fetch(`${url}/v1/record-key`, { headers: { authorization: `Bearer ${readFileSync(join(dir, 'operator'), 'utf8').trim()}` } });
  const key = ((await keyAnswer.json()) as { key: string }).key;
  const signed = verifyJobRecord(shown.stdout, key);
  assert.equal(signed.record.ticket, ticket);
  assert.equal(signed.record.writer, 'center');

  const file = join(dir, 'record.json');
  writeFileSync(file, shown.stdout);
  const good = await keyhole(['record', 'verify', file, '--key', key]);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, new RegExp(`valid: the center's record of ticket ${ticket}`));

  const tampered = join(dir, 'tampered.json');
  writeFileSync(tampered, shown.stdout.replace('"requester":"Ann"', '"requester":"Bob"'));
  assert.notEqual(shown.stdout, shown.stdout.replace('"requester":"Ann"', '"requester":"Bob"'), 'the tampering changed the file');
  const refused = await keyhole(['record', 'verify', tampered, '--key', key]);
  assert.notEqual(refused.code, 0);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, /signature/i);

  const otherKey = await keyhole(['record', 'verify', file, '--key', signed.signature.key.replace(/^(.)/, (c) => (c === 'A' ? 'B' : 'A'))]);
  assert.notEqual(otherKey.code, 0, 'a record checked against another key is refused');
});
