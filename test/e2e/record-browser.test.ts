// The help page's job record in chromium, against real keyhole processes on loopback: after a ticket ends, the browser that
// asked for it finds it under /records, and the JSON it downloads verifies with the key the gateway publishes at /record-key.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { verifyJobRecord } from '../../src/protocol/job-record.ts';
import { eventually } from '../support/eventually.ts';
import { BrowserWorld, browserPrerequisite } from '../support/browser-world.ts';

const missing = browserPrerequisite();
if (missing !== null && process.env['CI'] === 'true') throw new Error(`browser tests: ${missing}, and CI=true forbids skipping`);

describe('the help page\'s job record in chromium', { skip: missing ?? false, timeout: 180_000 }, () => {
  const world = new BrowserWorld();
  let failed = false;
  let user: BrowserContext;

  before(async () => {
    await world.start();
    user = await (await world.browser()).newContext();
  });
  afterEach((context) => { failed ||= (context as { passed?: boolean }).passed === false; });
  after(async () => { await world.stop(failed); });

  test('an ended request\'s record is listed, printable, and its download verifies with the site\'s key; a stranger gets none', async () => {
    const help = await user.newPage();
    await help.goto(world.lan);
    await help.getByLabel('Your name').fill('Ann');
    await help.locator('input[name=devices][value="printer"]').check();
    await help.getByRole('button', { name: 'Send request' }).click();
    await help.waitForURL(/\/tickets\/\d+$/);
    const number = Number(help.url().split('/').pop());
    await help.locator('#ticket-state', { hasText: 'Ready' }).waitFor({ timeout: 30_000 });
    await world.operatorPost(`/v1/tickets/${number}/end`, { reason: 'done' });

    await eventually('the record listed on /records', async () => {
      await help.goto(`${world.lan}/records`);
      return (await help.locator(`a[href="/records/${number}"]`).count()) === 1 ? true : undefined;
    }, 30_000);
    await help.locator(`a[href="/records/${number}"]`).click();
    await help.locator('h1', { hasText: `Job record of request ${number}` }).waitFor();
    const [download] = await Promise.all([help.waitForEvent('download'), help.getByRole('link', { name: 'Download as JSON' }).click()]);
    assert.equal(download.suggestedFilename(), `keyhole-record-${number}.json`);
    const path = await download.path();
    const text = readFileSync(path, 'utf8');
    const published = (await (await user.request.get(`${world.lan}/record-key`)).json()) as { alg: string; key: string };
    assert.equal(published.alg, 'Ed25519');
    const signed = verifyJobRecord(text, published.key);
    assert.equal(signed.record.writer, 'site');
    assert.equal(signed.record.ticket, number);
    assert.equal(signed.record.end.state, 'ended');
    assert.throws(() => verifyJobRecord(text.replace('"requester":"Ann"', '"requester":"Eve"'), published.key), 'a changed copy fails');

    const stranger = await (await world.browser()).newContext();
    assert.notEqual((await stranger.request.get(`${world.lan}/records/${number}.json`)).status(), 200, 'another browser gets no record');
    await stranger.close();
  });
});
