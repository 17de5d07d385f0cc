// The help page's services and consent panel in chromium, against real keyhole processes on loopback: a request with services
// ticked leases only those; an operator's ask shows on the open page and widens the lease only once the user clicks Accept.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { eventually } from '../support/eventually.ts';
import { BrowserWorld, browserPrerequisite } from '../support/browser-world.ts';

const missing = browserPrerequisite();
if (missing !== null && process.env['CI'] === 'true') throw new Error(`browser tests: ${missing}, and CI=true forbids skipping`);

interface Lease { device: string; address: string; services?: unknown }
interface TicketView { ticket: number; state: string; leases: Lease[]; devices: string[]; asks?: { ask: number; state: string }[] }

describe('the help page\'s services and consent in chromium', { skip: missing ?? false, timeout: 180_000 }, () => {
  const world = new BrowserWorld();
  let failed = false;
  let user: BrowserContext;
  const ticket = async (n: number): Promise<TicketView> => (await world.operatorApi(`/v1/tickets/${n}`)) as TicketView;
  const servicesOf = async (n: number, device: string): Promise<unknown> => (await ticket(n)).leases.find((l) => l.device === device)?.services;

  before(async () => {
    await world.start();
    user = await (await world.browser()).newContext();
  });
  afterEach((context) => { failed ||= (context as { passed?: boolean }).passed === false; });
  after(async () => { await world.stop(failed); });

  test('a bad port is said beside the devices and nothing is sent', async () => {
    const page = await user.newPage();
    await page.goto(world.lan);
    await page.getByLabel('Your name').fill('Ann');
    await page.locator('input[name=devices][value="nas"]').check();
    await page.locator('input[name="ports.nas"]').fill('65536');
    await page.getByRole('button', { name: 'Send request' }).click();
    const error = page.locator('#err-services');
    await error.waitFor();
    assert.match(await error.innerText(), /nas: '65536' is not a port/);
    assert.equal(await page.locator('input[name="ports.nas"]').inputValue(), '65536', 'what was typed is kept');
    assert.equal(((await world.operatorApi('/v1/tickets?limit=500')) as { tickets: unknown[] }).tickets.length, 0);
    await page.close();
  });

  test('web ticked for the printer; the operator\'s ask for ssh opens nothing until Accept; a refused ask opens nothing', async () => {
    const help = await user.newPage();
    await help.goto(world.lan);
    await help.getByLabel('Your name').fill('Ann');
    await help.locator('input[name=devices][value="printer"]').check();
    await help.locator('input[name="services.printer"][value="web"]').check();
    await help.getByRole('button', { name: 'Send request' }).click();
    await help.waitForURL(/\/tickets\/\d+$/);
    const number = Number(help.url().split('/').pop());
    assert.deepEqual(await servicesOf(number, 'printer'), { services: ['web'], ports: [] });
    await help.locator('#ticket-state', { hasText: 'Ready' }).waitFor({ timeout: 30_000 });
    await help.evaluate(() => { (window as unknown as { keep: number }).keep = 1; });

    await world.operatorPost(`/v1/tickets/${number}/asks`, { device: 'printer', services: { services: ['ssh'], ports: [] } });
    const pending = help.locator('.consent-pending li');
    await pending.waitFor({ timeout: 20_000 });
    assert.match(await pending.innerText(), /operator \S+ asked at .* to reach printer: ssh \(22\)/);
    assert.equal(await help.evaluate(() => (window as unknown as { keep?: number }).keep), 1, 'the ask arrived live, without a reload');
    assert.deepEqual(await servicesOf(number, 'printer'), { services: ['web'], ports: [] }, 'inert while the user has not answered');
    await help.getByRole('button', { name: 'Accept' }).click();
    await help.locator('.consent-answered li', { hasText: 'you accepted' }).waitFor();
    assert.deepEqual(await servicesOf(number, 'printer'), { services: ['web', 'ssh'], ports: [] }, 'accepted: the lease admits ssh');

    await world.operatorPost(`/v1/tickets/${number}/asks`, { device: 'camera', services: { services: [], ports: [{ proto: 'udp', port: 554 }] } });
    await help.locator('.consent-pending li', { hasText: 'camera' }).waitFor({ timeout: 20_000 });
    assert.match(await help.locator('.consent-pending li').innerText(), /a device not in this request yet/);
    await help.getByRole('button', { name: 'Refuse' }).click();
    await help.locator('.consent-answered li', { hasText: 'you refused' }).waitFor();
    const after = await ticket(number);
    assert.deepEqual(after.devices, ['printer'], 'a refused ask opens nothing');
    assert.deepEqual(after.asks?.map((a) => a.state), ['accepted', 'refused']);
    await eventually('no pending ask left on the page', async () => ((await help.locator('.consent-pending li').count()) === 0 ? true : undefined));
  });
});
