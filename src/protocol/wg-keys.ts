// WireGuard key math, the contract's key format: the base64 form `wg` accepts, and a private key's public key.
// Private keys are made on the agents (agent/key-pair.ts).
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { InputError } from './errors.ts';

// DER prefixes that wrap a raw 32-byte X25519 key (RFC 8410): PKCS#8 private, SPKI public.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX_LENGTH = 12;
const KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/;

/** True when `text` is a 32-byte key in base64, the only form `wg` accepts. */
export function isWireGuardKey(text: string): boolean {
  return KEY_PATTERN.test(text);
}

/** The public key of a base64 private key, as `wg pubkey` computes it. Throws InputError on a malformed key. */
export function publicKeyOf(privateKey: string): string {
  if (!isWireGuardKey(privateKey)) throw new InputError('the WireGuard private key is not a 32-byte base64 key', { field: 'privateKey' });
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(privateKey, 'base64')]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_PREFIX_LENGTH).toString('base64');
}
