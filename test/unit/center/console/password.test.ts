// Operator passwords: salted scrypt with its parameters stored beside the hash, checked in constant time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPasswordStrength, DEFAULT_SCRYPT, hashPassword, verifyPassword } from '../../../../src/center/console/password.ts';

const FAST = { N: 1024, r: 8, p: 1 };

test('the default hash carries its parameters and a random salt', async () => {
  const hash = await hashPassword('correct horse battery');
  const [kind, N, r, p, salt, key] = hash.split('$');
  assert.equal(kind, 'scrypt');
  assert.deepEqual([Number(N), Number(r), Number(p)], [DEFAULT_SCRYPT.N, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p]);
  assert.equal(Buffer.from(salt ?? '', 'base64').length, 16);
  assert.equal(Buffer.from(key ?? '', 'base64').length, 32);
  assert.ok(await verifyPassword('correct horse battery', hash));
  assert.ok(!await verifyPassword('correct horse battery ', hash));
});

test('the same password hashes differently each time; each verifies', async () => {
  const a = await hashPassword('same password!', FAST);
  const b = await hashPassword('same password!', FAST);
  assert.notEqual(a, b);
  assert.ok(await verifyPassword('same password!', a));
  assert.ok(await verifyPassword('same password!', b));
});

test('verification uses the parameters stored with the hash', async () => {
  const hash = await hashPassword('parameters travel', { N: 2048, r: 4, p: 2 });
  assert.match(hash, /^scrypt\$2048\$4\$2\$/);
  assert.ok(await verifyPassword('parameters travel', hash));
  assert.ok(!await verifyPassword('parameters travel', hash.replace('$2048$', '$1024$')), 'other parameters, other key');
});

test('a wrong password, a damaged or foreign hash never match and never throw', async () => {
  const hash = await hashPassword('the right one', FAST);
  assert.ok(!await verifyPassword('the wrong one', hash));
  for (const bad of ['', 'plain', 'scrypt$x$8$1$AAAA$BBBB', 'scrypt$1000$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5', `bcrypt$${hash.slice(7)}`, 'scrypt$1048576$8$1$c2FsdHNhbHQ=$']) {
    assert.equal(await verifyPassword('the right one', bad), false, bad);
  }
});

test('Unicode is normalised: the same text typed two ways is the same password', async () => {
  const hash = await hashPassword('Caf\u00e9 au lait!', FAST);
  assert.ok(await verifyPassword('Cafe\u0301 au lait!', hash));
});

test('passwords too short or too long are refused before hashing', () => {
  assert.throws(() => checkPasswordStrength('short'), /at least 10/);
  assert.throws(() => checkPasswordStrength('x'.repeat(1025)), /at most 1024/);
  assert.doesNotThrow(() => checkPasswordStrength('long enough pass'));
});
