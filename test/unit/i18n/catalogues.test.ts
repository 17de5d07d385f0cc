// Every piece's catalogues hold exactly English's keys, with the same {placeholders} and no empty text; the check itself catches each fault.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catalogueProblems, interpolate, LOCALES, placeholders } from '../../../src/i18n/catalogue.ts';
import { HELP_MESSAGES } from '../../../src/site/help/text.ts';
import { CONSOLE_MESSAGES } from '../../../src/center/console/text.ts';

const PIECES = { 'help page': HELP_MESSAGES, console: CONSOLE_MESSAGES };

describe('message catalogues', () => {
  for (const [piece, catalogues] of Object.entries(PIECES)) {
    for (const locale of LOCALES) {
      test(`${piece} in ${locale}: every English key, nothing extra, same placeholders, no empty text`, () => {
        assert.deepEqual(catalogueProblems(catalogues.en, catalogues[locale], `${piece}/${locale}`), []);
      });
    }
  }

  test('the Japanese catalogues are Japanese, not English copied over', () => {
    for (const [piece, catalogues] of Object.entries(PIECES)) {
      const same = Object.keys(catalogues.en).filter((k) => !k.startsWith('lang.') && catalogues.en[k as keyof typeof catalogues.en] === catalogues.ja[k as keyof typeof catalogues.ja] && /[a-z]{3}/.test(catalogues.en[k as keyof typeof catalogues.en].replace(/\{\w+\}|keyhole/g, '')));
      assert.deepEqual(same, [], `${piece}: untranslated`);
    }
  });

  test('the check finds a missing key, an extra key, a placeholder mismatch and an empty text', () => {
    const base = { a: 'Hello {name}', b: 'Bye', c: 'At {time} for {who}' };
    assert.deepEqual(catalogueProblems(base, { a: 'こんにちは {name}', b: 'さようなら', c: '{who} {time}' }, 'x'), []);
    assert.deepEqual(catalogueProblems(base, { a: 'こんにちは {name}', c: '{who} {time}' }, 'x'), ['x: missing key b']);
    assert.deepEqual(catalogueProblems(base, { a: 'こんにちは {name}', b: 'さようなら', c: '{who} {time}', d: 'extra' }, 'x'), ['x: extra key d']);
    assert.deepEqual(catalogueProblems(base, { a: 'こんにちは {nam}', b: 'さようなら', c: '{who}' }, 'x'), [
      'x: a has placeholders {nam}, English has {name}', 'x: c has placeholders {who}, English has {time,who}',
    ]);
    assert.deepEqual(catalogueProblems(base, { a: 'こんにちは {name}', b: '  ', c: '{who} {time}' }, 'x'), ['x: empty text for b']);
  });

  test('interpolation fills named placeholders, leaves unknown ones visible and does not read the prototype', () => {
    assert.equal(interpolate('{n} of {total}', { n: 3, total: 5 }), '3 of 5');
    assert.equal(interpolate('Hello {name}', {}), 'Hello {name}');
    assert.equal(interpolate('{constructor}', {}), '{constructor}');
    assert.equal(interpolate('{a}{a}', { a: '$&' }), '$&$&');
    assert.deepEqual(placeholders('{b} {a} {b} {not a placeholder} {}'), ['a', 'b']);
  });
});
