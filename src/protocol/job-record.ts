// The job record's canonical JSON (sorted keys, no spaces), its Ed25519 signature, and the offline check of either copy. No I/O.
import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { AuthError, InputError } from './errors.ts';
import { parseJsonWith, parseWith } from './validate.ts';
import { JobRecordSchema, SignedJobRecordSchema, type JobRecord, type SignedJobRecord } from './schemas/job-record.ts';

/**
 * The one text a record is signed as: objects with their keys sorted (by UTF-16 code units), arrays in order, no
 * whitespace, JSON's own string escapes. Only what JSON holds exactly: safe integers, strings, booleans, null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new InputError(`canonical JSON holds integers only, not ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new InputError(`canonical JSON cannot hold a ${typeof value}`);
}

/** A record key's public half as published (32 bytes, base64url). */
export function publicKeyText(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new InputError('a record key must be an Ed25519 key');
  return jwk.x;
}

/** The public key of published text; INVALID input is a BAD_REQUEST. */
export function publicKeyOf(text: string): KeyObject {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) throw new InputError('a record key is 32 bytes in base64url (43 characters)');
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text }, format: 'jwk' });
  } catch (cause) {
    throw new InputError('not an Ed25519 public key', { cause });
  }
}

/** A fresh record key pair (the writer keeps the private half, 0600 or in its store). */
export function newRecordKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** Signs `record` (checked against the schema first: a writer never signs what a reader would refuse). */
export function signJobRecord(record: JobRecord, privateKey: KeyObject): SignedJobRecord {
  const checked = parseWith(JobRecordSchema, record, 'job record');
  const value = sign(null, Buffer.from(canonicalJson(checked)), privateKey).toString('base64url');
  return { record: checked, signature: { alg: 'Ed25519', key: publicKeyText(createPublicKey(privateKey)), value } };
}

/**
 * Checks a signed record (its text, or the parsed value): the schema, then the signature by the key it names,
 * and that key is `trusted` when given (the site's or the center's published key). Returns the record; throws
 * BAD_REQUEST for a malformed one and SIGNATURE_BAD for one changed after signing or signed by another key.
 */
export function verifyJobRecord(input: string | unknown, trusted?: string): SignedJobRecord {
  const signed = typeof input === 'string' ? parseJsonWith(SignedJobRecordSchema, input, 'job record') : parseWith(SignedJobRecordSchema, input, 'job record');
  if (trusted !== undefined && trusted !== signed.signature.key) {
    throw new AuthError('SIGNATURE_BAD', `the record is signed by key ${signed.signature.key}, not by the expected ${trusted}`);
  }
  const ok = verify(null, Buffer.from(canonicalJson(signed.record)), publicKeyOf(signed.signature.key), Buffer.from(signed.signature.value, 'base64url'));
  if (!ok) throw new AuthError('SIGNATURE_BAD', 'the record does not match its signature: it was changed after it was signed');
  return signed;
}
