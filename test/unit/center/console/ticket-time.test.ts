import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { timeLeft, timeSection } from '../../../../src/center/console/ticket-time.ts';
import { consoleText } from '../../../../src/center/console/text.ts';
import type { TicketView } from '../../../../src/protocol/schemas/operator-api.ts';
import type { Session } from '../../../../src/center/console/sessions.ts';

const session = { csrf: 'C'.repeat(20), operator: 'ann' } as unknown as Session;
const deadline = Date.UTC(2026, 11, 1, 16, 0, 0);
const ticket = (extra: Partial<TicketView>): TicketView => ({ ticket: 9, state: 'in_progress', deadlineAt: deadline, warnedAt: null, extensions: [], ...extra } as unknown as TicketView);
const en = consoleText('en');

describe('console ticket page: time limit', () => {
  test('nothing before work starts', () => {
    assert.equal(timeSection(en, ticket({ deadlineAt: null }), session, 0).toString(), '');
  });

  test('in progress: the time left, the deadline and the ask form with the CSRF token', () => {
    const page = timeSection(en, ticket({}), session, deadline - 3_723_000).toString();
    assert.match(page, /data-deadline="1796140800000">01:02:03</);
    assert.match(page, /action="\/console\/tickets\/9\/extensions"/);
    assert.match(page, /name="_csrf" value="CCCC/);
    assert.doesNotMatch(page, /role="alert"/);
    assert.equal(timeLeft(-1), '00:00:00');
  });

  test('warned: the warning; an ask waiting: no second form, the ask with its state', () => {
    const page = timeSection(en, ticket({ warnedAt: deadline - 60_000, extensions: [{ extension: 2, extendMs: 1_800_000, state: 'pending', askedBy: 'operator:ann', askedAt: 0, answeredAt: null }] }), session, deadline - 1000).toString();
    assert.match(page, /role="alert">The deadline is near/);
    assert.doesNotMatch(page, /<form/);
    assert.match(page, /\+30 min asked by operator:ann — <b>waiting for the user<\/b>/);
    assert.match(timeSection(consoleText('ja'), ticket({ warnedAt: 1 }), session, 0).toString(), /期限が近づいています/);
  });
});
