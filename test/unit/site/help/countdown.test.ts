import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { countdown, timeLeft } from '../../../../src/site/help/countdown.ts';
import { helpScript } from '../../../../src/site/help/assets.ts';
import { helpText } from '../../../../src/site/help/text.ts';

const deadline = Date.UTC(2026, 11, 1, 16, 0, 0);

describe('help page countdown', () => {
  test('time left is HH:MM:SS, never negative, hours past 24', () => {
    assert.equal(timeLeft(3_723_000), '01:02:03');
    assert.equal(timeLeft(999), '00:00:00');
    assert.equal(timeLeft(-5000), '00:00:00');
    assert.equal(timeLeft(100 * 3_600_000), '100:00:00');
  });

  test('an open ticket with a deadline shows the time left, the deadline and the element the script ticks', () => {
    const page = countdown(helpText('en'), deadline, false, true, deadline - 5_400_000).toString();
    assert.match(page, /Time left: <b class="time-left" data-deadline="1796140800000">01:30:00<\/b>/);
    assert.match(page, /The center loses access on December 1, 2026 at 16:00:00 UTC/);
    assert.doesNotMatch(page, /time limit is near/);
    assert.match(countdown(helpText('ja'), deadline, false, true, deadline - 60_000).toString(), /残り時間：<b class="time-left" data-deadline="1796140800000">00:01:00<\/b>/);
  });

  test('the warning shows once the center warned', () => {
    assert.match(countdown(helpText('en'), deadline, true, true, deadline - 60_000).toString(), /role="alert">The time limit is near/);
    assert.match(countdown(helpText('ja'), deadline, true, true, deadline - 60_000).toString(), /制限時間が近づいています/);
  });

  test('nothing before work starts or once the request closed', () => {
    assert.equal(countdown(helpText('en'), null, false, true, 0).toString(), '');
    assert.equal(countdown(helpText('en'), deadline, true, false, 0).toString(), '');
  });

  test('the page script ticks every data-deadline element', () => {
    assert.match(helpScript(), /\[data-deadline\]/);
  });
});
