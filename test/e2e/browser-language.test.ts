// The help page in Japanese and in English in a real browser (Debian's chromium through playwright-core) against real keyhole processes on loopback.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { BrowserWorld, browserPrerequisite } from '../support/browser-world.ts';

const missing = browserPrerequisite();
if (missing !== null && process.env['CI'] === 'true') throw new Error(`browser tests: ${missing}, and CI=true forbids skipping`);

describe('the help page in Japanese and in English, in chromium', { skip: missing ?? false, timeout: 180_000 }, () => {
  const world = new BrowserWorld();
  let failed = false;

  before(async () => { await world.start(); });
  afterEach((context) => { failed ||= (context as { passed?: boolean }).passed === false; });
  after(async () => { await world.stop(failed); });

  /** Work started by the operator once the tunnel is up (the API, as `keyhole tickets start` does). */
  async function startWork(ticket: number): Promise<void> {
    await eventually('the ticket ready', async () => ((await world.operatorApi(`/v1/tickets/${ticket}`)) as { state: string }).state === 'ready' ? true : undefined, 30_000);
    await world.operatorPost(`/v1/tickets/${ticket}/start`);
  }

  test('a browser set to Japanese asks in Japanese and follows its ticket in Japanese, dates in Japanese format', async () => {
    const context = await (await world.browser()).newContext({ locale: 'ja-JP' });
    const page = await context.newPage();
    await page.goto(world.lan);
    assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
    await page.getByRole('heading', { name: 'リモート保守を依頼する' }).waitFor();
    // A form with a problem says so in Japanese, beside the field.
    await page.getByRole('button', { name: '依頼を送信する' }).click();
    await page.getByText('お名前を入力してください。').waitFor();
    await page.getByText('センターが接続してよい機器を1つ以上選んでください。').waitFor();

    await page.getByLabel('お名前').fill('山田 花子');
    await page.locator('input[name=devices][value="nas"]').check();
    await page.getByLabel(/どのようなお困りごとですか/).fill('プリンターが印刷できません');
    await page.getByRole('button', { name: '依頼を送信する' }).click();
    await page.waitForURL(/\/tickets\/\d+$/);
    const ticket = Number(/\/tickets\/(\d+)$/.exec(page.url())?.[1]);
    await page.getByRole('heading', { name: `ご依頼 #${ticket}` }).waitFor();
    assert.match(await page.locator('#ticket-state').innerText(), /^(待機中|準備完了)$/);
    assert.match(await page.locator('.foot').last().innerText(), /^\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}:\d{2} UTCに nas についてご依頼いただきました。/);

    await startWork(ticket);
    // The live region follows in Japanese: the state, who started, and when, in Japanese date format.
    await page.locator('#ticket-state', { hasText: '作業中' }).waitFor({ timeout: 30_000 });
    assert.match(await page.locator('#worker').innerText(), /^operator .+が\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}:\d{2} UTCに作業を始めました。$/);
    assert.match(await page.title(), new RegExp(`^ご依頼 #${ticket}：作業中$`));
    await page.getByRole('button', { name: 'このご依頼を取り消す' }).click();
    await page.locator('#ticket-state', { hasText: '取り消し済み' }).waitFor();
    await context.close();
  });

  test('a browser set to English gets English; the switch turns the same page Japanese and keeps it so', async () => {
    const context = await (await world.browser()).newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(world.lan);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.getByLabel('Your name').fill('Ann');
    await page.locator('input[name=devices][value="printer"]').check();
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.waitForURL(/\/tickets\/\d+$/);
    const ticket = Number(/\/tickets\/(\d+)$/.exec(page.url())?.[1]);
    assert.match(await page.locator('#ticket-state').innerText(), /^(Waiting|Ready)$/);
    assert.match(await page.locator('.foot').last().innerText(), /^Requested on [A-Z][a-z]+ \d{1,2}, \d{4} at \d{2}:\d{2}:\d{2} UTC for printer\./);

    await page.getByRole('link', { name: '日本語' }).click();
    await page.waitForURL(new RegExp(`/tickets/${ticket}$`));
    assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
    await page.getByRole('heading', { name: `ご依頼 #${ticket}` }).waitFor();
    await page.goto(world.lan);
    await page.getByRole('heading', { name: 'リモート保守を依頼する' }).waitFor();
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Ask for remote maintenance' }).waitFor();
    await context.close();
  });
});
