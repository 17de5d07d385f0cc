// The test fixture for daemons: a clean stop on SIGTERM, and SIGKILL for one that ignores it, so none outlives a test.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Processes } from '../../support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'keyhole-procs-'));
const procs = new Processes(dir);
after(async () => {
  await procs.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const node = (script: string): string[] => ['-e', `${script}; console.log('up'); setInterval(() => {}, 1000);`];

const isAlive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

void test('a daemon that exits on SIGTERM stops cleanly, within the grace period', async () => {
  const daemon = procs.start('clean', node("process.on('SIGTERM', () => process.exit(0))"), {}, process.execPath);
  await new Promise((r) => daemon.child.stdout?.once('data', r));
  assert.equal(await procs.stop('clean', 'SIGTERM', 5000), 0);
});

void test('a daemon that ignores SIGTERM is killed after the grace period', async () => {
  const daemon = procs.start('stubborn', node("process.on('SIGTERM', () => {})"), {}, process.execPath);
  await new Promise((r) => daemon.child.stdout?.once('data', r));
  const started = Date.now();
  assert.equal(await procs.stop('stubborn', 'SIGTERM', 300), -1, 'ended by a signal, not by itself');
  assert.equal(daemon.child.signalCode, 'SIGKILL');
  assert.ok(Date.now() - started >= 300, 'SIGKILL only after the grace period');
  assert.equal(isAlive(daemon.child.pid ?? 0), false);
});
