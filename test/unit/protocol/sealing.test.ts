import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyholeError } from '../../../src/protocol/errors.ts';
import { open, seal } from '../../../src/protocol/sealing.ts';
import { generateKeyPair } from '../../../src/agent/key-pair.ts';

const message = new TextEncoder().encode('{"secret":"s","presharedKey":"p"}');

test('a message sealed to a WireGuard public key opens with its private key', async () => {
  const site = generateKeyPair();
  const sealed = await seal(site.publicKey, message, 'site1');
  assert.deepEqual(await open(site.privateKey, sealed, 'site1'), message);
});

test('sealing is randomised: two seals of one message differ', async () => {
  const site = generateKeyPair();
  const a = await seal(site.publicKey, message, 'site1');
  const b = await seal(site.publicKey, message, 'site1');
  assert.notEqual(a.enc, b.enc);
  assert.notEqual(a.ciphertext, b.ciphertext);
});

test('another key, another site id or a flipped byte cannot open it', async () => {
  const site = generateKeyPair();
  const sealed = await seal(site.publicKey, message, 'site1');
  await assert.rejects(open(generateKeyPair().privateKey, sealed, 'site1'), (e) => e instanceof KeyholeError && e.code === 'SEAL_FAILED');
  await assert.rejects(open(site.privateKey, sealed, 'site2'), (e) => e instanceof KeyholeError && e.code === 'SEAL_FAILED');
  const bytes = Buffer.from(sealed.ciphertext, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  await assert.rejects(open(site.privateKey, { ...sealed, ciphertext: bytes.toString('base64') }, 'site1'), (e) => e instanceof KeyholeError && e.code === 'SEAL_FAILED');
});

test('a malformed public key is refused before anything is sealed', async () => {
  await assert.rejects(seal('AAAA', message, 'site1'), (e) => e instanceof KeyholeError && e.code === 'SEAL_FAILED');
});
