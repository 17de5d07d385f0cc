// Key rotation from the site's side: a new WireGuard key pair, enrolled with the current site secret, swapped in without a window that loses both keys.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, readPrivateFile, writePrivateFile } from '../agent/secret-files.ts';
import { generateKeyPair } from '../agent/key-pair.ts';
import { publicKeyOf } from '../protocol/wg-keys.ts';
import { CREDENTIALS_FILE, enrollAs, siteSigner, type EnrollInput, type SiteCredentials } from './enrollment.ts';

const KEY_FILE = 'private.key';
const NEXT_KEY_FILE = 'private.key.next';

/**
 * Finishes or drops a rotation a crash interrupted, before the key is loaded: the next key becomes the
 * key only when the credentials already name it (the center took it); otherwise the old key stands.
 */
export function settleRotation(stateDir: string): void {
  const next = readPrivateFile(stateDir, NEXT_KEY_FILE)?.trim();
  if (next === undefined) return;
  const stored = readJsonFile<SiteCredentials>(stateDir, CREDENTIALS_FILE);
  let nextPublic: string | null = null;
  try { nextPublic = publicKeyOf(next); } catch { /* a damaged file: drop it */ }
  if (nextPublic !== null && stored?.publicKey === nextPublic) renameSync(join(stateDir, NEXT_KEY_FILE), join(stateDir, KEY_FILE));
  else if (existsSync(join(stateDir, NEXT_KEY_FILE))) rmSync(join(stateDir, NEXT_KEY_FILE));
}

/**
 * Rotates the site's key: the request is signed with the current site secret, the answer is sealed to
 * the new key (only its holder can open it). The new key is written first beside the old one, the
 * credentials next, and the key swapped last, so a crash at any point leaves a pair that matches.
 */
export async function rotateKey(input: Omit<EnrollInput, 'privateKey' | 'publicKey'>, current: SiteCredentials, signal: AbortSignal): Promise<{ credentials: SiteCredentials; privateKey: string }> {
  const next = generateKeyPair();
  writePrivateFile(input.stateDir, NEXT_KEY_FILE, `${next.privateKey}\n`);
  try {
    const credentials = await enrollAs({ ...input, ...next }, siteSigner(input.site, Buffer.from(current.secret, 'base64')), signal);
    renameSync(join(input.stateDir, NEXT_KEY_FILE), join(input.stateDir, KEY_FILE));
    return { credentials, privateKey: next.privateKey };
  } catch (error) {
    settleRotation(input.stateDir);
    throw error;
  }
}
