// The lab's device service as a process: its answer, its exit codes (without process.exit), its stop on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, freePort } from '../../support/processes.ts';
import { eventually } from '../../support/eventually.ts';

const SERVICE = join(ROOT, 'src/lab/device-service.ts');

function service(args: string[]) {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', SERVICE, '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, exited, stderr: () => stderr };
}

void test('without --site and --device it exits 2 and says why', async () => {
  const run = service(['--site', 'site1']);
  assert.deepEqual(await run.exited, [2, null]);
  assert.match(run.stderr(), /--site and --device are required/);
});

void test('it answers site= device= and exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const run = service(['--site', 'site1', '--device', 'plc', '--port', String(port)]);
  try {
    const body = await eventually('the service to answer', async () => (await fetch(`http://127.0.0.1:${port}/any`)).text(), 10_000);
    assert.equal(body, 'site=site1 device=plc');
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.deepEqual(await run.exited, [0, null]);
});

void test('a port in use makes it exit 1', async () => {
  const taken = createServer();
  await new Promise<void>((resolveListen) => taken.listen(0, '127.0.0.1', resolveListen));
  const address = taken.address();
  assert.ok(typeof address === 'object' && address !== null);
  const run = service(['--site', 'site1', '--device', 'plc', '--port', String(address.port)]);
  try {
    assert.deepEqual(await run.exited, [1, null]);
    assert.match(run.stderr(), /EADDRINUSE/);
  } finally {
    taken.close();
  }
});
