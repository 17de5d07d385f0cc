// Two center replicas on one PostgreSQL store: a hub watching one and a site watching the other converge
// through the store and LISTEN/NOTIFY, well before any resync would have told them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgres.ts';
import { eventually } from '../support/eventually.ts';
import { addHub, freePort, keyhole, Processes } from '../support/processes.ts';

const problem = postgresUnavailable();
if (problem !== null && process.env.CI === 'true') throw new Error(`replicas: ${problem}, and CI=true forbids skipping`);

describe('two center replicas on one PostgreSQL store', { skip: problem ?? false, timeout: 120_000 }, () => {
  let pg: PostgresServer;
  let dir: string;
  let procs: Processes;
  const urls: string[] = [];

  before(async () => {
    pg = startPostgres();
    const db = await pg.createDatabase();
    dir = mkdtempSync(join(tmpdir(), 'keyhole-replicas-'));
    for (const name of ['enroll', 'operator']) {
      writeFileSync(join(dir, name), `${name}-replica-secret-0123456789\n`, { mode: 0o600 });
      chmodSync(join(dir, name), 0o600);
    }
    writeFileSync(join(dir, 'hosts'), '192.168.1.11 dev1\n');
    await addHub(db, 'hub1', join(dir, 'hub1.token'));
    procs = new Processes(dir);
    for (const replica of ['a', 'b']) {
      const port = await freePort();
      urls.push(`http://127.0.0.1:${port}`);
      procs.start(`center-${replica}`, ['center', '--listen', `127.0.0.1:${port}`, '--db', db, '--enroll-secret-file', join(dir, 'enroll'),
        '--operator-token-file', join(dir, 'operator')]);
      await eventually(`replica ${replica}`, async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined), 30_000);
    }
    // A resync of a minute: anything faster than that came through the replicas' notifications.
    procs.start('hub1', ['hub', '--center', urls[0] as string, '--name', 'hub1', '--hub-token-file', join(dir, 'hub1.token'), '--endpoint', '127.0.0.1:51820',
      '--block', '100.64.0.0/24', '--capacity', '4', '--dataplane', 'dry-run', '--state-dir', join(dir, 'hub1'), '--resync', '60s']);
    procs.start('site1', ['site', '--center', urls[1] as string, '--id', 'site1', '--enroll-secret-file', join(dir, 'enroll'), '--hosts', join(dir, 'hosts'),
      '--lan-listen', `127.0.0.1:${await freePort()}`, '--lan', '192.168.1.0/24', '--dataplane', 'dry-run', '--state-dir', join(dir, 'site1'), '--resync', '60s']);
  });

  after(async () => {
    await procs?.stopAll();
    pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const operator = (url: string, ...args: string[]) => keyhole([...args, '--json', '--center', url, '--token-file', join(dir, 'operator')]);
  const plane = (agent: string) => JSON.parse(readFileSync(join(dir, agent, 'dataplane.json'), 'utf8'));

  test('a ticket opened through replica B reaches the hub watching replica A, and its end reaches back', async () => {
    const ticket = await eventually('the site enrolled and the request accepted', async () => {
      const result = await keyhole(['site', 'request', '--state-dir', join(dir, 'site1'), '--device', 'dev1', '--requester', 'Ann', '--level', 'user', '--urgency', 'low', '--json']);
      return result.code === 0 ? JSON.parse(result.stdout) as { ticket: number; leases: { address: string }[] } : undefined;
    }, 20_000);
    const started = Date.now();
    await eventually('ready, seen from replica A', async () => {
      const shown = await operator(urls[0] as string, 'tickets', 'show', String(ticket.ticket));
      return JSON.parse(shown.stdout).state === 'ready' ? true : undefined;
    }, 20_000);
    assert.ok(Date.now() - started < 20_000, 'well before the 60 s resync');
    assert.deepEqual(plane('hub1').tunnel.peers[0].allowedIps.sort(), ['100.64.0.2/32', `${ticket.leases[0]?.address}/32`].sort());
    const ended = await operator(urls[0] as string, 'tickets', 'end', String(ticket.ticket));
    assert.equal(ended.code, 0, ended.stderr);
    await eventually('the site, watching replica B, tears down', () => (plane('site1').tunnel === null ? true : undefined), 20_000);
    await eventually('the hub, watching replica A, drops the peer and the pool is free', async () => {
      const pool = JSON.parse((await operator(urls[1] as string, 'pool')).stdout) as { leased: number };
      return plane('hub1').tunnel.peers.length === 0 && pool.leased === 0 ? true : undefined;
    }, 20_000);
  });
});
