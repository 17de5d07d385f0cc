// WireGuard key math: RFC 7748's X25519 vector, and agreement with `wg pubkey` where wireguard-tools is installed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { InputError } from '../../../src/protocol/errors.ts';
import { run } from '../../../src/dataplane/run.ts';
import { publicKeyOf } from '../../../src/protocol/wg-keys.ts';
import { generateKeyPair } from '../../../src/agent/key-pair.ts';

const hex64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

void test('publicKeyOf matches RFC 7748 section 6.1 (Alice)', () => {
  const privateKey = hex64('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  assert.equal(publicKeyOf(privateKey), hex64('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'));
});

void test('publicKeyOf agrees with `wg pubkey`', { skip: existsSync('/usr/bin/wg') ? false : 'wireguard-tools is not installed' }, async () => {
  for (let i = 0; i < 3; i++) {
    const { privateKey, publicKey } = generateKeyPair();
    const { stdout } = await run(['wg', 'pubkey'], { signal: AbortSignal.timeout(5000), input: `${privateKey}\n` });
    assert.equal(stdout.trim(), publicKey);
  }
  // An unclamped key too: both sides clamp before multiplying.
  const unclamped = Buffer.alloc(32, 0xff).toString('base64');
  const { stdout } = await run(['wg', 'pubkey'], { signal: AbortSignal.timeout(5000), input: `${unclamped}\n` });
  assert.equal(stdout.trim(), publicKeyOf(unclamped));
});

void test('a malformed private key is an InputError', () => {
  assert.throws(() => publicKeyOf('not a key'), InputError);
  assert.throws(() => publicKeyOf(`${'A'.repeat(43)}\n`), InputError);
});
