// The console's page shell: head, top bar with navigation and logout, notices, and the live region the script refreshes.
import { html, type SafeHtml } from '../../web/html.ts';
import type { Session } from './sessions.ts';
import { switchTargets } from '../../web/language.ts';
import { CONSOLE_LANG_PATH, type ConsoleText } from './text.ts';

export type NavKey = 'queue' | 'faults' | 'sites' | 'hubs' | 'pool' | 'audit' | 'webhooks';
/** What in the center's event feed makes a page's live region stale. */
export type LiveKey = 'tickets' | 'sites' | 'hubs' | 'pool' | 'faults';

const NAV: { key: NavKey; href: string }[] = [
  { key: 'queue', href: '/console/' },
  { key: 'faults', href: '/console/faults' },
  { key: 'sites', href: '/console/sites' },
  { key: 'hubs', href: '/console/hubs' },
  { key: 'pool', href: '/console/pool' },
  { key: 'audit', href: '/console/audit' },
  { key: 'webhooks', href: '/console/webhooks' },
];

export interface Notice { kind: 'error' | 'ok'; text: string }

export interface Shell {
  /** The page's words: the operator's language (console/text.ts). */
  t: ConsoleText;
  /** The path the language switch comes back to (the page's own); the ticket queue without it. */
  here?: string;
  title: string;
  active: NavKey | null;
  session: Session | null;
  /** Above the live region: the heading, filters. Not refreshed. */
  intro?: SafeHtml;
  /** The part the script re-renders from the server when the feed says it changed. */
  region: SafeHtml;
  live?: { src: string; on: LiveKey[]; ticket?: number };
  notice?: Notice | null;
}

export function csrfField(session: Session): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

export function noticeBox(notice: Notice | null | undefined): SafeHtml {
  if (notice === null || notice === undefined) return html``;
  return html`<div class="notice notice-${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</div>`;
}

function languageSwitch(t: ConsoleText, here: string): SafeHtml {
  return html`<nav class="lang" aria-label="${t.t('doc.language')}">${switchTargets(t.locale, CONSOLE_LANG_PATH, here).map((s) => html`<a href="${s.href}" hreflang="${s.locale}" lang="${s.locale}">${t.t(`lang.${s.locale}`)}</a>`)}</nav>`;
}

function topBar(shell: Shell): SafeHtml {
  const { session, t } = shell;
  return html`<header class="top">
<a class="brand" href="/console/"><span class="logo" aria-hidden="true"></span>keyhole</a>
${session !== null && html`<nav class="main-nav" aria-label="${t.t('nav.label')}">${NAV.map((n) => html`<a href="${n.href}"${n.key === shell.active ? html` aria-current="page"` : ''}>${t.t(`nav.${n.key}`)}</a>`)}</nav>`}
<div class="who">
${session !== null && html`<span class="live-dot" id="live-dot" title="${t.t('top.live.title')}" hidden>${t.t('top.live')}</span>
<span class="operator">${session.operator}</span>
<form method="post" action="/console/logout" class="inline">${csrfField(session)}<button type="submit" class="link">${t.t('top.logout')}</button></form>`}
${languageSwitch(t, shell.here ?? '/console/')}
</div>
</header>`;
}

/** A whole console page. */
export function consolePage(shell: Shell): SafeHtml {
  const live = shell.live;
  const { t } = shell;
  return html`<html lang="${t.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.t('doc.title', { title: shell.title })}</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
${topBar(shell)}
<main id="main" data-age-now="${t.t('age.now')}" data-age-min="${t.raw('age.min')}" data-age-h="${t.raw('age.h')}" data-age-d="${t.raw('age.d')}"
 data-live-refused="${t.raw('live.refused')}" data-live-unreachable="${t.t('live.unreachable')}" data-live-paused="${t.t('live.paused')}" data-live-ended="${t.t('live.ended')}" data-live-login="${t.t('live.login')}">
<div id="live-status" class="notice notice-error" role="status" aria-live="polite" hidden></div>
${noticeBox(shell.notice)}
${shell.intro}
<div id="live"${live !== undefined && html` data-live-src="${live.src}" data-live-on="${live.on.join(' ')}"${live.ticket !== undefined && html` data-live-ticket="${live.ticket}"`}`}>
${shell.region}
</div>
${live !== undefined && html`<noscript><p class="muted">${t.t('live.noscript')}</p></noscript>`}
</main>
</body>
</html>`;
}
