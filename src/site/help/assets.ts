// The help page's stylesheet and its one small script (live ticket state over Server-Sent Events); the page works without it.
import { CONSENT_CSS } from './consent.ts';
import { COUNTDOWN_CSS } from './countdown.ts';
import { SERVICES_CSS } from './services-form.ts';

export const HELP_CSS = `
:root { --ink: #1c2433; --muted: #667085; --line: #e2e6ec; --accent: #2463eb; --bg: #f4f6f9; --bad: #b42318; --bad-bg: #fdeceb; --ok: #137a48;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; color: var(--ink); background: var(--bg); }
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
.bar { background: #fff; border-bottom: 1px solid var(--line); padding: 14px 24px; display: flex; align-items: center; justify-content: space-between; gap: 12px; }
.lang a { color: var(--ink); font-size: 14px; }
.brand { font-weight: 700; color: var(--ink); text-decoration: none; display: inline-flex; align-items: center; gap: 10px; }
.logo { width: 20px; height: 20px; border-radius: 50%; background: radial-gradient(circle at 50% 38%, #fff 0 3px, transparent 3.5px), linear-gradient(#fff, #fff) 50% 70% / 3px 7px no-repeat, var(--accent); }
main { max-width: 720px; margin: 0 auto; padding: 28px 20px 60px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 0 0 10px; }
.lead { color: #3b4557; margin: 6px 0 20px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 22px 24px; margin-bottom: 18px; }
.field { margin: 0 0 20px; border: 0; padding: 0; }
.field > label:not(.choice), legend { display: block; font-weight: 600; margin-bottom: 6px; padding: 0; }
.hint { font-weight: 400; color: var(--muted); font-size: 14px; }
input[type=text], input[type=tel], textarea { width: 100%; font: inherit; padding: 9px 12px; border: 1px solid #c9cfd8; border-radius: 8px; background: #fff; color: var(--ink); }
textarea { resize: vertical; }
input:focus, textarea:focus, button:focus-visible, a:focus-visible { outline: 3px solid #b7cbfb; outline-offset: 1px; border-color: var(--accent); }
[aria-invalid="true"] { border-color: var(--bad) !important; }
.choice { display: inline-flex; align-items: center; gap: 6px; margin: 0 18px 6px 0; }
.devices { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 8px; }
label.device { display: grid; grid-template-columns: auto 1fr; column-gap: 10px; align-items: center; border: 1px solid var(--line); border-radius: 8px; padding: 9px 12px; cursor: pointer; background: #fbfcfd; }
label.device:has(input:checked) { border-color: var(--accent); background: #eef3ff; }
.name { font-weight: 600; }
label.device input { grid-row: span 2; }
label.device .addr { grid-column: 2; font-size: 12px; }
.choice input { margin: 0; }
.addr { color: var(--muted); font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
.error { color: var(--bad); margin: 6px 0 0; font-size: 14px; }
.banner { background: var(--bad-bg); color: var(--bad); border: 1px solid #f6c9c4; border-radius: 10px; padding: 12px 16px; margin-bottom: 18px; }
button { font: inherit; font-weight: 600; border-radius: 8px; padding: 10px 20px; cursor: pointer; border: 1px solid #c9cfd8; background: #fff; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover { background: #1b50c8; }
button.danger { color: var(--bad); border-color: #efb5ae; }
button.danger:hover { background: var(--bad-bg); }
.open-list { margin-bottom: 16px; display: flex; gap: 10px; flex-wrap: wrap; align-items: center; }
.open-list a { text-decoration: none; background: #fff; border: 1px solid var(--line); border-radius: 999px; padding: 3px 12px; }
.ticket-head { display: flex; align-items: center; gap: 14px; }
.ticket-head h1 { margin: 0; }
.state { display: inline-block; font-size: 14px; font-weight: 600; padding: 3px 12px; border-radius: 999px; background: #eef0f3; color: #475467; }
.state-waiting { background: #fff3d6; color: #8a5a00; } .state-ready { background: #e6edff; color: #1f4fc9; }
.state-in_progress { background: #e3f5ec; color: var(--ok); } .state-failed { background: var(--bad-bg); color: var(--bad); }
ol.steps { list-style: none; display: flex; padding: 0; margin: 22px 0 8px; counter-reset: step; }
ol.steps li { flex: 1; position: relative; text-align: center; font-size: 14px; color: var(--muted); padding-top: 30px; }
ol.steps li::before { counter-increment: step; content: counter(step); position: absolute; top: 0; left: 50%; transform: translateX(-50%); width: 24px; height: 24px; line-height: 24px; border-radius: 50%; background: #e2e6ec; color: #667085; font-size: 13px; font-weight: 700; z-index: 1; }
ol.steps li + li::after { content: ""; position: absolute; top: 11px; right: 50%; width: 100%; height: 2px; background: #e2e6ec; }
ol.steps li.done, ol.steps li.current { color: var(--ink); }
ol.steps li.done::before { content: "✓"; background: var(--ok); color: #fff; }
ol.steps li.current::before { background: var(--accent); color: #fff; box-shadow: 0 0 0 4px #d6e2ff; }
ol.steps li.current { font-weight: 700; }
ol.steps li.done + li::after, ol.steps li.done + li.current::after { background: var(--ok); }
ol.steps li.stopped::before { content: "✕"; background: var(--bad); color: #fff; }
ol.steps li.stopped { color: var(--bad); font-weight: 700; }
.cancel { margin: 0 0 18px; }
ul.open-now { margin: 0; padding: 0; list-style: none; }
ul.open-now li { padding: 6px 0; border-bottom: 1px solid var(--line); }
ul.open-now li:last-child { border-bottom: 0; }
table { width: 100%; border-collapse: collapse; font-size: 15px; }
th { text-align: left; color: var(--muted); font-size: 13px; font-weight: 600; border-bottom: 1px solid var(--line); padding: 6px 8px; }
td { padding: 7px 8px; border-bottom: 1px solid var(--line); }
tr:last-child td { border-bottom: 0; }
.muted { color: var(--muted); }
.foot { color: var(--muted); font-size: 14px; }
.field-sub { margin-top: 10px; }
.field-sub label { display: block; font-weight: 600; margin-bottom: 6px; }
form.foot button { padding: 4px 12px; margin-left: 8px; }
#live-status { background: #fff3d6; color: #8a5a00; border: 1px solid #f2d58a; border-radius: 10px; padding: 10px 14px; margin-bottom: 14px; }
${SERVICES_CSS}${CONSENT_CSS}${COUNTDOWN_CSS}`;

/** Runs in the browser, sent as its own source text: it must not use anything from outside its body. */
export function helpClient(): void {
  const main = document.querySelector<HTMLElement>('main[data-live]');
  const base = main?.dataset['live'];
  if (main === null || base === undefined) return;
  const status = document.createElement('div');
  status.id = 'live-status';
  status.setAttribute('role', 'status');
  status.hidden = true;
  main.before(status);
  const say = (text: string | null): void => { status.hidden = text === null; status.textContent = text ?? ''; };
  let timer: number | undefined;
  const refresh = async (): Promise<void> => {
    try {
      const response = await fetch(`${base}/live`, { cache: 'no-store' });
      if (!response.ok) { say((main.dataset['failed'] ?? '').replace('{status}', String(response.status))); return; }
      main.innerHTML = await response.text();
      // The page's words come from the server, in the page's language: the title from the region, the notices from <main>.
      const title = document.querySelector<HTMLElement>('.ticket-head')?.dataset['title'];
      if (title !== undefined) document.title = title;
      say(null);
    } catch {
      say(main.dataset['offline'] ?? '');
    }
  };
  // The countdown ticks here; the server renders it again (and the deadline it counts to) on every refresh.
  const two = (n: number): string => String(n).padStart(2, '0');
  window.setInterval(() => {
    document.querySelectorAll<HTMLElement>('[data-deadline]').forEach((el) => {
      const s = Math.max(0, Math.floor((Number(el.dataset['deadline']) - Date.now()) / 1000));
      el.textContent = `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
    });
  }, 1000);
  const source = new EventSource(`${base}/events`);
  source.addEventListener('change', () => { window.clearTimeout(timer); timer = window.setTimeout(() => { void refresh(); }, 100); });
  source.addEventListener('error', () => { say(main.dataset['lost'] ?? ''); });
  source.addEventListener('open', () => { say(null); void refresh(); });
}

export function helpScript(): string {
  return `"use strict";\n(${helpClient.toString()})();\n`;
}
