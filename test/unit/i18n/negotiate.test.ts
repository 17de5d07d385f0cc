// Locale choice: Accept-Language q-values, region subtags, unknown and hostile headers; the lang cookie only when it names a known locale.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseLocale, negotiateLocale, parseAcceptLanguage } from '../../../src/i18n/negotiate.ts';
import { safeBack, switchTargets } from '../../../src/web/language.ts';
import { translator } from '../../../src/i18n/translator.ts';

describe('Accept-Language negotiation', () => {
  test('a region subtag maps to its language; q-values order the choice', () => {
    assert.equal(negotiateLocale('ja-JP'), 'ja');
    assert.equal(negotiateLocale('ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7'), 'ja');
    assert.equal(negotiateLocale('en-US,en;q=0.9,ja;q=0.8'), 'en');
    assert.equal(negotiateLocale('en;q=0.5, ja;q=0.8'), 'ja');
    assert.equal(negotiateLocale('JA'), 'ja');
  });

  test('an unknown language is skipped for a known one further down, else English', () => {
    assert.equal(negotiateLocale('fr-FR,fr;q=0.9,ja;q=0.5'), 'ja');
    assert.equal(negotiateLocale('fr-FR,de'), 'en');
    assert.equal(negotiateLocale(undefined), 'en');
    assert.equal(negotiateLocale(''), 'en');
    assert.equal(negotiateLocale('*'), 'en');
  });

  test('q=0 refuses a language; malformed entries are ignored, not trusted', () => {
    assert.equal(negotiateLocale('ja;q=0, en'), 'en');
    assert.equal(negotiateLocale('ja;q=0'), 'en');
    assert.equal(negotiateLocale('ja;q=2, en;q=0.1'), 'en');
    assert.equal(negotiateLocale('ja;q=abc, en;q=0.1'), 'en');
    assert.equal(negotiateLocale('../../ja, en'), 'en');
    assert.equal(negotiateLocale('ja;q=0.5;q=1, en;q=0.1'), 'en');
    assert.deepEqual(parseAcceptLanguage('ja-JP;q=0.8, en;q=0.9, <script>'), [{ tag: 'en', q: 0.9 }, { tag: 'ja-jp', q: 0.8 }]);
  });

  test('a 10 kB header is read only at its start, quickly and without a throw', () => {
    const padding = 'x-'.repeat(5000);
    const huge = `${padding}ja`;
    const started = performance.now();
    assert.equal(negotiateLocale(huge), 'en');
    assert.equal(negotiateLocale(`ja,${'fr;q=0.1,'.repeat(1000)}`), 'ja');
    assert.equal(negotiateLocale(`${'fr;q=0.9,'.repeat(1000)}ja`), 'en', 'only the first entries count');
    assert.ok(parseAcceptLanguage(`${'en,'.repeat(5000)}`).length <= 32);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('the lang cookie', () => {
  test('a known locale wins over the header', () => {
    assert.equal(chooseLocale('ja', 'en-US'), 'ja');
    assert.equal(chooseLocale('en', 'ja-JP'), 'en');
  });

  test('anything else is ignored, and the header decides', () => {
    for (const bad of ['../../x', 'JA', 'ja-JP', 'fr', '', ' ja', 'ja\u0000', 'x'.repeat(10_000), 'constructor', '__proto__', 'toString']) {
      assert.equal(chooseLocale(bad, 'ja'), 'ja', JSON.stringify(bad.slice(0, 20)));
      assert.equal(chooseLocale(bad, undefined), 'en', JSON.stringify(bad.slice(0, 20)));
    }
  });
});

describe('the language switch', () => {
  test('goes back only to a local path', () => {
    assert.equal(safeBack('/tickets/3', '/'), '/tickets/3');
    assert.equal(safeBack('/console/tickets/3?x=1', '/console/'), '/console/tickets/3?x=1');
    for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/a b', '/\r\nSet-Cookie: x=1', '', undefined]) {
      assert.equal(safeBack(bad, '/'), '/', JSON.stringify(bad));
    }
  });

  test('links to every other language, back to this page', () => {
    assert.deepEqual(switchTargets('en', '/lang', '/tickets/3'), [{ locale: 'ja', href: '/lang?to=ja&back=%2Ftickets%2F3' }]);
    assert.deepEqual(switchTargets('ja', '/lang', '//evil'), [{ locale: 'en', href: '/lang?to=en&back=%2F' }]);
  });
});

describe('dates and numbers for the locale', () => {
  const at = Date.UTC(2026, 11, 1, 9, 5, 3);
  const catalogues = { en: { k: 'x' }, ja: { k: 'y' } };
  test('Japanese dates read as Japanese dates, English as English, in the given time zone', () => {
    assert.equal(translator(catalogues, 'ja').dateTime(at), '2026年12月1日 9:05:03 UTC');
    assert.equal(translator(catalogues, 'en').dateTime(at), 'December 1, 2026 at 09:05:03 UTC');
    assert.equal(translator(catalogues, 'ja').time(at), '9:05:03');
    assert.equal(translator(catalogues, 'ja', 'Asia/Tokyo').dateTime(at), '2026年12月1日 18:05:03 JST');
    assert.equal(translator(catalogues, 'en').number(1234567.5), '1,234,567.5');
  });
});
