// The site's job records on disk: signed by the site's key (verifies with its published key), files 0600, the last N kept.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyJobRecord } from '../../../src/protocol/job-record.ts';
import { JobRecords } from '../../../src/site/help/record-store.ts';
import { siteJobRecord } from '../../../src/site/help/recorder.ts';

void test('a closed ticket\'s record carries its connections with bytes, verifies with the site key, is 0600, and only the last N stay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-records-'));
  try {
    const records = new JobRecords(dir, { keep: 2 });
    const ticket = (n: number) => ({ ticket: n, state: 'cancelled' as const, leases: [{ device: 'printer', address: '100.64.0.5' }], createdAt: 1_796_000_000_000, updatedAt: 1_796_000_100_000 });
    const seen = [{ key: '1', at: 1_796_000_050_000, device: 'printer', address: '100.64.0.5', port: 80, protocol: 'tcp', bytes: { toDevice: 446, fromDevice: 1028 }, ended: true as const }];
    for (const n of [1, 2, 3]) records.write(siteJobRecord('site1', ticket(n), seen, 1_796_000_200_000));
    assert.deepEqual(records.tickets(), [3, 2]);
    const text = readFileSync(join(dir, 'records', 'ticket-3.json'), 'utf8');
    const signed = verifyJobRecord(text, records.publicKey);
    assert.deepEqual(signed.record.connections, [{ at: 1_796_000_050_000, device: 'printer', address: '100.64.0.5', port: 80, protocol: 'tcp', toDevice: 446, fromDevice: 1028, ended: true }]);
    for (const name of [...readdirSync(join(dir, 'records')).map((f) => join('records', f)), 'record-key.pem']) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    assert.equal(new JobRecords(dir).publicKey, records.publicKey, 'the key survives a restart');
    assert.throws(() => records.read(1), { code: 'NOT_FOUND' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
