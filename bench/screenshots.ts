// `make screenshots`: the console's queue and a ticket, and a site's help page (form, live ticket with an operator's asks, job record, Japanese), from a real loopback run.
//
// Real `bin/keyhole` processes (center with its console, one hub, three sites with the dry-run data
// plane) and Debian's chromium; the PNGs go to docs/.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { eventually } from '../test/support/eventually.ts';
import type { Page } from 'playwright-core';
import { BrowserWorld, OPERATOR, SITE_ADMIN_PASSWORD } from '../test/support/browser-world.ts';

const DOCS = resolve(import.meta.dirname, '..', 'docs');
const HOSTS = '127.0.0.1 localhost\n192.168.1.10 nas\n192.168.1.20 printer\n192.168.1.30 camera\n192.168.1.40 thermostat\n192.168.1.50 pos-terminal\n';
const SITES = ['clinic-shibuya', 'bakery-kobe', 'office-osaka'];

type Ticket = { ticket: number; leases: { device: string; address: string }[] };

async function seed(world: BrowserWorld): Promise<{ featured: Ticket; waiting: Ticket; done: Ticket }> {
  const [clinic, bakery, office] = SITES as [string, string, string];
  const featured = await world.request(clinic, { requester: 'Dr. Aiko Tanaka', devices: ['nas', 'printer'], urgency: 'high', phone: '+81 3 5555 0142', description: 'Patient records share on the NAS is read-only since this morning; the printer queue is stuck too.' });
  const pos = await world.request(bakery, { requester: 'Kenji Mori', level: 'admin', devices: ['gateway', 'pos-terminal'], urgency: 'high', phone: '+81 78 555 0199', description: 'Card terminal cannot reach the payment service.' });
  await world.request(office, { requester: 'Yuki Sato', devices: ['camera'], urgency: 'normal', phone: '+81 6 5555 0117', description: 'Entrance camera shows a black image at night.' });
  const done = await world.request(office, { requester: 'Hiro Ito', devices: ['printer'], urgency: 'low', description: 'Toner warning although the cartridge is new.' });
  await world.request(clinic, { requester: 'Mika Suzuki', devices: ['thermostat'], urgency: 'low', description: 'Waiting room too warm; thermostat ignores the schedule.' });
  for (const t of [featured, pos, done]) {
    await eventually(`ticket ${t.ticket} ready`, async () => ((await world.operatorApi(`/v1/tickets/${t.ticket}`)) as { state: string }).state === 'ready' ? true : undefined);
  }
  await world.operatorPost(`/v1/tickets/${featured.ticket}/start`);
  await world.operatorPost(`/v1/tickets/${pos.ticket}/start`);
  await world.operatorPost(`/v1/tickets/${done.ticket}/start`);
  await world.operatorPost(`/v1/tickets/${done.ticket}/end`, { reason: 'new toner profile installed' });
  const nas = featured.leases.find((l) => l.device === 'nas')?.address ?? '';
  const printer = featured.leases.find((l) => l.device === 'printer')?.address ?? '';
  // Connections during the ticket, as the site's conntrack would have reported them.
  const opened = ((await world.operatorApi(`/v1/tickets/${featured.ticket}`)) as { createdAt: number }).createdAt;
  const at = (f: number): number => opened + (Date.now() - opened) * f;
  world.writeConnections([
    { address: nas, lanAddress: '192.168.1.10', port: 22, at: at(0.3) },
    { address: nas, lanAddress: '192.168.1.10', port: 443, at: at(0.5) },
    { address: printer, lanAddress: '192.168.1.20', port: 631, at: at(0.7) },
    { address: printer, lanAddress: '192.168.1.20', port: 161, protocol: 'udp', at: at(0.9) },
  ], clinic);
  // The operator asks for more: another device (web only) and more time; both wait for the user's consent on the help page.
  await world.operatorPost(`/v1/tickets/${featured.ticket}/asks`, { device: 'camera', services: { services: ['web'], ports: [] } });
  await world.operatorPost(`/v1/tickets/${featured.ticket}/extensions`, { byMs: 30 * 60_000 });
  // A ticket whose tunnel is not up yet: the hub is away.
  await world.stopHub();
  const waiting = await world.request(bakery, { requester: 'Emi Kato', devices: ['camera'], urgency: 'normal', phone: '+81 78 555 0123', description: 'Back-door camera offline after the power cut.' });
  return { featured, waiting, done };
}

/** Signs the browser in as the gateway's administrator on `lan`: a request is shown only to the browser that sent it, or to the administrator. */
async function signInAdmin(page: Page, lan: string): Promise<void> {
  await page.goto(`${lan}/admin`);
  await page.locator('input[name=password]').fill(SITE_ADMIN_PASSWORD);
  await Promise.all([page.waitForURL(`${lan}/`), page.locator('form[action="/admin"] button[type=submit]').click()]);
}

async function main(): Promise<void> {
  mkdirSync(DOCS, { recursive: true });
  const world = new BrowserWorld();
  let ok = false;
  try {
    await world.start({ hosts: HOSTS, sites: SITES });
    const { featured, done } = await seed(world);
    const browser = await world.browser();
    const operator = await browser.newContext({ viewport: { width: 1440, height: 860 } });
    const page = await operator.newPage();
    await page.goto(`${world.console}/console/`);
    await page.getByLabel('Operator name').fill(OPERATOR.name);
    await page.getByLabel('Password').fill(OPERATOR.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#live-dot:not([hidden])').waitFor();
    await page.screenshot({ path: join(DOCS, 'console-queue.png') });
    await page.goto(`${world.console}/console/tickets/${featured.ticket}`);
    await page.locator('#live-dot:not([hidden])').waitFor();
    await page.screenshot({ path: join(DOCS, 'console-ticket.png') });

    const user = await browser.newContext({ viewport: { width: 900, height: 1000 } });
    const help = await user.newPage();
    await help.goto(world.lans.get(SITES[0] as string) ?? '');
    await help.getByLabel('Your name').fill('Dr. Aiko Tanaka');
    await help.locator('input[name=devices][value=nas]').check();
    await help.locator('input[name=devices][value=printer]').check();
    await help.screenshot({ path: join(DOCS, 'help-page.png'), fullPage: true });
    const clinicLan = world.lans.get(SITES[0] as string) ?? '';
    const officeLan = world.lans.get(SITES[2] as string) ?? '';
    await signInAdmin(help, clinicLan);
    await help.goto(`${clinicLan}/tickets/${featured.ticket}`);
    await help.locator('section', { hasText: 'Connections the center made' }).locator('tbody tr').nth(3).waitFor({ timeout: 10_000 });
    await help.screenshot({ path: join(DOCS, 'help-ticket.png'), fullPage: true });
    await signInAdmin(help, officeLan);
    await help.goto(`${officeLan}/records/${done.ticket}`);
    await help.screenshot({ path: join(DOCS, 'help-record.png'), fullPage: true });

    const japanese = await browser.newContext({ viewport: { width: 900, height: 1000 }, locale: 'ja-JP' });
    const ja = await japanese.newPage();
    await signInAdmin(ja, clinicLan);
    await ja.goto(`${clinicLan}/tickets/${featured.ticket}`);
    await ja.locator('html[lang=ja]').waitFor();
    await ja.screenshot({ path: join(DOCS, 'help-ticket-ja.png'), fullPage: true });
    ok = true;
    process.stdout.write(`screenshots written to ${DOCS}: console-queue.png console-ticket.png help-page.png help-ticket.png help-record.png help-ticket-ja.png\n`);
  } finally {
    await world.stop(!ok);
  }
}

await main();
