// The help page's record pages speak the reader's language: <html lang>, the catalogue's words, dates by locale; the record's text is escaped.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JobRecords } from '../../../src/site/help/record-store.ts';
import { recordPage } from '../../../src/site/help/record.ts';
import { siteJobRecord } from '../../../src/site/help/recorder.ts';
import { helpText } from '../../../src/site/help/text.ts';

void test('a record page in English and in Japanese: lang, words and dates by locale, no English left in the Japanese one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-record-page-'));
  try {
    const records = new JobRecords(dir);
    const ticket = { ticket: 7, state: 'ended' as const, leases: [{ device: 'printer', address: '100.64.0.5' }], createdAt: 1_796_000_000_000, updatedAt: 1_796_000_100_000 };
    const seen = [{ key: '1', at: 1_796_000_050_000, device: 'printer', address: '100.64.0.5', port: 80, protocol: 'tcp<b>', bytes: { toDevice: 446, fromDevice: 1028 }, ended: true as const }];
    records.write(siteJobRecord('site1', ticket, seen, 1_796_000_200_000));
    const signed = records.read(7);
    const en = recordPage(helpText('en'), signed).text;
    const ja = recordPage(helpText('ja'), signed).text;
    assert.match(en, /<html lang="en">/);
    assert.match(en, /Job record of request 7/);
    assert.match(en, new RegExp(helpText('en').dateTime(signed.record.end.at)));
    assert.match(ja, /<html lang="ja">/);
    assert.match(ja, /ご依頼 7 の作業記録/);
    assert.match(ja, new RegExp(helpText('ja').dateTime(signed.record.end.at)));
    assert.notEqual(helpText('ja').dateTime(signed.record.end.at), helpText('en').dateTime(signed.record.end.at));
    for (const english of ['Job record', 'Consent', 'Who worked', 'Connections', 'Download as JSON', 'Signed by']) assert.ok(!ja.includes(english), english);
    assert.ok(!en.includes('tcp<b>') && en.includes('tcp&lt;b&gt;'), 'the record\'s text is escaped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
