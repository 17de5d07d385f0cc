// The console's messages in English: its keys are the type every other language's catalogue must match (see ../text.ts).

export const en = {
  'lang.en': 'English',
  'lang.ja': '日本語',
  'doc.language': 'Language',
  'doc.title': '{title} · keyhole',

  'nav.label': 'Console',
  'nav.queue': 'Tickets',
  'nav.faults': 'Faults',
  'nav.sites': 'Sites',
  'nav.hubs': 'Hubs',
  'nav.pool': 'Pool',
  'nav.audit': 'Audit log',
  'nav.webhooks': 'Webhooks',
  'top.live.title': 'Live updates',
  'top.live': 'Live',
  'top.logout': 'Log out',
  'live.noscript': 'Live updates need JavaScript: reload the page to see changes.',

  'login.title': 'Log in',
  'login.heading': 'Log in to keyhole',
  'login.name': 'Operator name',
  'login.password': 'Password',
  'login.submit': 'Log in',
  'message.back': 'Back to the console',
  'message.back.tickets': 'Back to the tickets',

  'error.CSRF_BAD.title': 'This form was refused',
  'error.RATE_LIMITED.title': 'Too many attempts',
  'error.ROLE_FORBIDDEN.title': 'Not allowed for your role',
  'error.not-found.title': 'Not found',
  'error.bad-request.title': 'That request was not understood',
  'error.refused.title': 'Refused',
  'error.other.title': 'Something went wrong',
  'error.server': 'The console could not do that; the center logged why. Try again in a moment.',
  'error.form-value': 'The form has a value the console cannot use. Go back and try again.',
  'error.form-value.field': 'The form has a value the console cannot use ({field}). Go back and try again.',
  'error.address-value': 'The page address has a value the console cannot use. Go back and try again.',
  'error.address-value.field': 'The page address has a value the console cannot use ({field}). Go back and try again.',
  'error.not-found': 'There is no console page at {path}.',
} as const;

export type ConsoleKey = keyof typeof en;
