// The login page and the plain-words message page (refused forms, errors, pages not found).
import { html, type SafeHtml } from '../../web/html.ts';
import { consolePage, type Notice } from './layout.ts';
import type { Session } from './sessions.ts';
import type { ConsoleText } from './text.ts';

export interface LoginModel { t: ConsoleText; csrf: string; name: string; next: string; notice: Notice | null }

export function loginPage(model: LoginModel): SafeHtml {
  const { t } = model;
  return consolePage({
    t, here: `/console/login?next=${encodeURIComponent(model.next)}`, title: t.t('login.title'), active: null, session: null,
    region: html`<form method="post" action="/console/login" class="panel login">
<h1>${t.t('login.heading')}</h1>
${model.notice !== null && html`<div class="notice notice-${model.notice.kind}" role="alert">${model.notice.text}</div>`}
<input type="hidden" name="_csrf" value="${model.csrf}">
<input type="hidden" name="next" value="${model.next}">
<div class="field"><label for="login-name">${t.t('login.name')}</label><input id="login-name" type="text" name="name" value="${model.name}" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="63"${model.name === '' && html` autofocus`}></div>
<div class="field"><label for="login-password">${t.t('login.password')}</label><input id="login-password" type="password" name="password" autocomplete="current-password" required maxlength="1024"${model.name !== '' && html` autofocus`}></div>
<button type="submit" class="primary">${t.t('login.submit')}</button>
</form>`,
  });
}

/** A page that says one thing plainly, with a way on. */
export function messagePage(t: ConsoleText, title: string, text: string, session: Session | null, link: { href: string; label: string } = { href: '/console/', label: t.t('message.back') }): SafeHtml {
  return consolePage({
    t, title, active: null, session,
    region: html`<div class="panel message"><h1>${title}</h1><p>${text}</p><p><a href="${link.href}">${link.label}</a></p></div>`,
  });
}
