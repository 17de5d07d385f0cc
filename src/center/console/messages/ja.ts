// The console's messages in Japanese: every key of en.ts, the same {placeholders}; protocol words (ticket, lease) kept as チケット, リース.
import type { Catalogue } from '../../../i18n/catalogue.ts';
import type { ConsoleKey } from './en.ts';

export const ja: Catalogue<ConsoleKey> = {
  'lang.en': 'English',
  'lang.ja': '日本語',
  'doc.language': '言語',
  'doc.title': '{title} · keyhole',

  'nav.label': 'コンソール',
  'nav.queue': 'チケット',
  'nav.faults': '障害',
  'nav.sites': 'サイト',
  'nav.hubs': 'ハブ',
  'nav.pool': 'プール',
  'nav.audit': '監査ログ',
  'nav.webhooks': 'Webhook',
  'top.live.title': 'ライブ更新',
  'top.live': 'ライブ',
  'top.logout': 'ログアウト',
  'live.noscript': 'ライブ更新には JavaScript が必要です。変更を見るにはページを再読み込みしてください。',

  'login.title': 'ログイン',
  'login.heading': 'keyhole にログイン',
  'login.name': 'オペレーター名',
  'login.password': 'パスワード',
  'login.submit': 'ログイン',
  'message.back': 'コンソールに戻る',
  'message.back.tickets': 'チケット一覧に戻る',

  'error.CSRF_BAD.title': 'このフォームは受け付けられませんでした',
  'error.RATE_LIMITED.title': '試行回数が多すぎます',
  'error.ROLE_FORBIDDEN.title': 'このロールでは許可されていません',
  'error.not-found.title': '見つかりません',
  'error.bad-request.title': 'リクエストを理解できませんでした',
  'error.refused.title': '拒否されました',
  'error.other.title': '問題が発生しました',
  'error.server': 'コンソールでこの操作を行えませんでした。理由はセンターのログに記録されています。しばらくしてからもう一度お試しください。',
  'error.form-value': 'フォームにコンソールで使えない値があります。戻ってもう一度お試しください。',
  'error.form-value.field': 'フォームにコンソールで使えない値があります（{field}）。戻ってもう一度お試しください。',
  'error.address-value': 'ページのアドレスにコンソールで使えない値があります。戻ってもう一度お試しください。',
  'error.address-value.field': 'ページのアドレスにコンソールで使えない値があります（{field}）。戻ってもう一度お試しください。',
  'error.not-found': '{path} というコンソールページはありません。',
};
