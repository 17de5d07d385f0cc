// docs/errors.md is generated from the error registry and checked in: it must be current.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS_DOC, renderErrorsDoc } from '../../../scripts/gen-errors-doc.ts';
import { ERROR_CODES } from '../../../src/protocol/errors.ts';

void test('docs/errors.md is what scripts/gen-errors-doc.ts renders now (run it after changing an error code)', () => {
  assert.equal(readFileSync(ERRORS_DOC, 'utf8'), renderErrorsDoc());
});

void test('docs/errors.md has one row per code, with its status and exit code', () => {
  const doc = readFileSync(ERRORS_DOC, 'utf8');
  for (const [code, { status, exit }] of Object.entries(ERROR_CODES)) assert.match(doc, new RegExp(`^\\| \`${code}\` \\| ${status} \\| ${exit} \\| .+ \\|$`, 'm'));
});
