// The console's one stylesheet, served at /console/assets/console.css (no build, no inline styles: the CSP forbids them).
export const CONSOLE_CSS = `
:root {
  --bg: #f5f6f8; --panel: #fff; --ink: #1d2330; --muted: #667085; --line: #e3e6eb; --accent: #2f5bea;
  --top: #141a2a; --top-ink: #d8deea; --ok: #137a48; --ok-bg: #e3f5ec; --warn: #8a5a00; --warn-bg: #fff3d6;
  --info: #1f4fc9; --info-bg: #e6edff; --bad: #b42318; --bad-bg: #fdeceb; --grey-bg: #eef0f3;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  font-size: 14px; line-height: 1.45; color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
h1 { font-size: 20px; margin: 0; font-weight: 650; }
h2 { font-size: 15px; margin: 24px 0 8px; font-weight: 650; }
.muted { color: var(--muted); }
.top { display: flex; align-items: center; gap: 28px; padding: 0 24px; height: 52px; background: var(--top); color: var(--top-ink); }
.brand { color: #fff; font-weight: 700; font-size: 16px; letter-spacing: .2px; display: flex; align-items: center; gap: 8px; }
.brand:hover { text-decoration: none; }
.logo { width: 18px; height: 18px; border-radius: 50%; background: radial-gradient(circle at 50% 38%, var(--top) 0 3px, transparent 3.5px), linear-gradient(var(--top), var(--top)) 50% 70% / 3px 7px no-repeat, #f5b73b; }
.main-nav { display: flex; gap: 4px; flex: 1; }
.main-nav a { color: var(--top-ink); padding: 6px 12px; border-radius: 6px; }
.main-nav a:hover { background: #232b40; text-decoration: none; }
.main-nav a[aria-current="page"] { background: #2a3550; color: #fff; }
.who { display: flex; align-items: center; gap: 14px; margin-left: auto; }
.lang a { color: var(--top-ink); font-size: 13px; }
.operator { color: #fff; }
.live-dot { font-size: 12px; color: #8fe3b5; }
.live-dot::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: #3ccf7e; margin-right: 6px; box-shadow: 0 0 0 3px rgba(60,207,126,.2); }
main { max-width: 1400px; margin: 0 auto; padding: 22px 24px 48px; }
.page-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 16px; margin-bottom: 14px; flex-wrap: wrap; }
.page-head p { margin: 4px 0 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; }
.notice { padding: 10px 14px; border-radius: 8px; margin-bottom: 14px; border: 1px solid; }
.notice-error { background: var(--bad-bg); color: var(--bad); border-color: #f6c9c4; }
.notice-ok { background: var(--ok-bg); color: var(--ok); border-color: #b9e6cf; }
.notice[hidden] { display: none; }
form.inline { display: inline; margin: 0; }
.filters { display: flex; gap: 10px; align-items: flex-end; flex-wrap: wrap; }
.filters label, .field label { display: block; font-size: 12px; color: var(--muted); margin-bottom: 3px; }
input[type=text], input[type=password], input[type=search], select, textarea {
  font: inherit; padding: 6px 9px; border: 1px solid #cfd4dc; border-radius: 6px; background: #fff; color: var(--ink); min-width: 0;
}
input:focus, select:focus, textarea:focus, button:focus-visible, a:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
button, .button { font: inherit; font-weight: 550; padding: 6px 14px; border-radius: 6px; border: 1px solid #cfd4dc; background: #fff; color: var(--ink); cursor: pointer; }
button:hover { background: #f3f5f8; }
button:disabled, button:disabled:hover { opacity: .4; cursor: not-allowed; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover { background: #254bd0; }
button.start { background: var(--ok); border-color: var(--ok); color: #fff; padding: 4px 12px; }
button.start:hover { background: #0f6a3d; }
button.start:disabled:hover { background: var(--ok); }
button.end { color: var(--bad); border-color: #f0b8b2; padding: 4px 12px; }
button.end:hover { background: var(--bad-bg); }
button.link { border: 0; background: none; color: var(--top-ink); padding: 0; font-weight: 400; }
button.link:hover { color: #fff; text-decoration: underline; background: none; }
.chips { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 12px; }
.chip:hover { text-decoration: none; border-color: #c9d5fb; }
.chip { color: var(--ink); background: var(--panel); border: 1px solid var(--line); border-radius: 999px; padding: 3px 12px; font-size: 13px; }
.chip b { font-weight: 650; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 11.5px; text-transform: uppercase; letter-spacing: .4px; color: var(--muted); font-weight: 600; padding: 10px 10px; border-bottom: 1px solid var(--line); background: #fafbfc; vertical-align: bottom; }
th:first-child { border-top-left-radius: 10px; } th:last-child { border-top-right-radius: 10px; }
td { padding: 10px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child td { border-bottom: 0; }
tbody tr:hover td { background: #fbfcfe; }
tr.closed td { color: var(--muted); }
tr.flash td { animation: flash 2.4s ease-out; }
@keyframes flash { from { background: #fff6cc; } to { background: transparent; } }
td.num { font-weight: 700; font-size: 15px; white-space: nowrap; }
td.num a { color: var(--ink); }
td.actions { white-space: nowrap; text-align: right; }
td.actions form + form { margin-left: 6px; }
.queue td.actions form { display: block; }
.queue td.actions form + form { margin: 6px 0 0; }
.queue td.actions button { width: 64px; }
.queue { font-size: 13.5px; }
.sub { display: block; font-size: 12px; color: var(--muted); }
.desc { min-width: 160px; max-width: 320px; overflow: hidden; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; }
.panel.scroll { overflow-x: auto; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 2px 9px; border-radius: 999px; white-space: nowrap; background: var(--grey-bg); color: #475467; }
.state-waiting { background: var(--warn-bg); color: var(--warn); }
.state-ready { background: var(--info-bg); color: var(--info); }
.state-in_progress { background: var(--ok-bg); color: var(--ok); }
.state-failed { background: var(--bad-bg); color: var(--bad); }
.level-admin { background: #f2e8ff; color: #6b2bbf; }
.level-user { background: var(--grey-bg); color: #475467; }
.urgency { font-weight: 600; white-space: nowrap; }
.urgency::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: #c0c6d0; }
.urgency-high { color: var(--bad); } .urgency-high::before { background: var(--bad); }
.urgency-normal::before { background: #e5a000; }
.urgency-low { color: var(--muted); font-weight: 500; }
.age { font-size: 12px; color: var(--muted); display: block; }
ul.leases { list-style: none; margin: 0; padding: 0; }
ul.leases li { white-space: nowrap; padding: 1px 0; }
td.state .age { margin-top: 3px; }
.device { font-weight: 550; }
.arrow { color: var(--muted); }
a.reach { font-size: 11.5px; font-weight: 600; margin-left: 6px; padding: 0 6px; border: 1px solid #c9d5fb; border-radius: 4px; background: #f3f6ff; }
a.reach:hover { text-decoration: none; background: var(--info-bg); }
.pager { display: flex; gap: 16px; align-items: center; justify-content: flex-end; padding: 12px 2px; }
.pager .disabled { color: #b3b9c4; }
.empty { padding: 36px; text-align: center; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: 170px 1fr; gap: 8px 16px; margin: 0; padding: 18px 20px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1.1fr) minmax(0, 1fr); gap: 18px; align-items: start; }
.ticket-head { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; }
.ticket-head .actions { margin-left: auto; display: flex; gap: 8px; align-items: center; }
.ticket-head h1 { font-size: 24px; }
.description { white-space: pre-wrap; }
ol.timeline { list-style: none; margin: 0; padding: 14px 20px; }
ol.timeline li { padding: 5px 0 5px 18px; position: relative; }
ol.timeline li::before { content: ""; position: absolute; left: 0; top: 12px; width: 8px; height: 8px; border-radius: 50%; background: #c0c6d0; }
.meter { display: block; margin-top: 5px; }
.meter-bg { fill: var(--grey-bg); } .meter-fill { fill: var(--accent); } .meter-full { fill: var(--bad); }
.timeline .age { display: inline; margin-left: 4px; }
.health-ok { color: var(--ok); font-weight: 600; } .health-bad { color: var(--bad); font-weight: 600; }
.big-numbers { display: flex; gap: 18px; flex-wrap: wrap; margin-bottom: 18px; }
.big-numbers .panel { padding: 14px 20px; min-width: 180px; }
.big-numbers .value { font-size: 26px; font-weight: 700; display: block; }
figure.chart { margin: 0; padding: 16px 18px; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
.grid { stroke: #e9ecf1; stroke-width: 1; }
.axis { fill: #8a93a3; font-size: 11px; }
.leased-area { fill: rgba(47,91,234,.12); }
.leased-line { stroke: var(--accent); stroke-width: 2; }
.size-line { stroke: #9aa3b2; stroke-width: 1.5; stroke-dasharray: 5 4; }
.key::before { content: ""; display: inline-block; width: 14px; height: 3px; margin-right: 5px; vertical-align: middle; background: var(--accent); }
.key.size::before { background: repeating-linear-gradient(90deg, #9aa3b2 0 5px, transparent 5px 9px); }
.login { max-width: 360px; margin: 9vh auto 0; padding: 28px; }
.login h1 { margin-bottom: 18px; }
.field { margin-bottom: 14px; }
.field input { width: 100%; }
.field .error { color: var(--bad); font-size: 12.5px; margin-top: 4px; }
.message { max-width: 560px; margin: 8vh auto 0; padding: 28px; }
.range a { padding: 3px 10px; border-radius: 6px; }
.range a[aria-current="true"] { background: var(--info-bg); font-weight: 600; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.panel-title { margin: 0; padding: 14px 20px 0; }
.grid2 > div > .panel + .panel { margin-top: 18px; }
.back { margin: 0 0 10px; }
.ticket-head { margin-bottom: 16px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } .desc { max-width: 180px; } .top { gap: 12px; padding: 0 12px; } }
`;
