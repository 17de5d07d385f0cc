// Key generation on the agents: clamped private keys, as `wg genkey` makes them, and their public keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair } from '../../../src/agent/key-pair.ts';
import { isWireGuardKey, publicKeyOf } from '../../../src/protocol/wg-keys.ts';

void test('generateKeyPair gives a clamped private key and its public key', () => {
  const { privateKey, publicKey } = generateKeyPair();
  assert.ok(isWireGuardKey(privateKey) && isWireGuardKey(publicKey));
  const raw = Buffer.from(privateKey, 'base64');
  assert.equal((raw[0] as number) & 7, 0);
  assert.equal((raw[31] as number) & 0xc0, 0x40);
  assert.equal(publicKeyOf(privateKey), publicKey);
  assert.notEqual(generateKeyPair().privateKey, privateKey);
});
