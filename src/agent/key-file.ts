// An agent's WireGuard private key: made on first start, kept 0600 in the state dir, never sent anywhere.
import { publicKeyOf } from '../protocol/wg-keys.ts';
import { generateKeyPair } from './key-pair.ts';
import { KeyholeError } from '../protocol/errors.ts';
import { readPrivateFile, writePrivateFile } from './secret-files.ts';

const KEY_FILE = 'private.key';

export function loadOrCreateKey(stateDir: string): { privateKey: string; publicKey: string } {
  const existing = readPrivateFile(stateDir, KEY_FILE)?.trim();
  if (existing !== undefined && existing !== '') {
    try {
      return { privateKey: existing, publicKey: publicKeyOf(existing) };
    } catch (cause) {
      throw new KeyholeError('BAD_CONFIG', `${stateDir}/${KEY_FILE} does not hold a WireGuard private key; remove it to make a new one`, { cause });
    }
  }
  const pair = generateKeyPair();
  writePrivateFile(stateDir, KEY_FILE, `${pair.privateKey}\n`);
  return pair;
}
