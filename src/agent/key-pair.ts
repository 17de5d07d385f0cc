// Making a WireGuard key pair, as `wg genkey | wg pubkey` would: only agents make private keys.
import { randomBytes } from 'node:crypto';
import { publicKeyOf } from '../protocol/wg-keys.ts';

/** A fresh key pair. The private key is clamped, as `wg genkey` stores it. */
export function generateKeyPair(): { privateKey: string; publicKey: string } {
  const raw = randomBytes(32);
  raw[0] = (raw[0] as number) & 248;
  raw[31] = ((raw[31] as number) & 127) | 64;
  const privateKey = raw.toString('base64');
  raw.fill(0);
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}
