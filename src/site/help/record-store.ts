// The site's copy of its job records: signed by the site's record key, kept in its state dir (the last KEEP, files 0600).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyholeError } from '../../protocol/errors.ts';
import { canonicalJson, newRecordKey, publicKeyText, signJobRecord } from '../../protocol/job-record.ts';
import { parseJsonWith } from '../../protocol/validate.ts';
import { SignedJobRecordSchema, type JobRecord, type SignedJobRecord } from '../../protocol/schemas/job-record.ts';

const KEY_FILE = 'record-key.pem';
const DIR = 'records';
const KEEP = 200;
const FILE = /^ticket-(\d{1,16})\.json$/;

/** The site's Ed25519 record key, made once (0600 in the state dir). */
export function loadRecordKey(stateDir: string): KeyObject {
  const path = join(stateDir, KEY_FILE);
  if (!existsSync(path)) {
    writeFileSync(path, newRecordKey().privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  }
  try {
    return createPrivateKey(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new KeyholeError('BAD_CONFIG', `${path} is not a record key: remove it and a new one is made`, { cause });
  }
}

export class JobRecords {
  readonly #dir: string;
  readonly #key: KeyObject;
  readonly #keep: number;
  /** The site's record key as published (the help page shows it). */
  readonly publicKey: string;

  constructor(stateDir: string, options: { keep?: number } = {}) {
    this.#dir = join(stateDir, DIR);
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    this.#key = loadRecordKey(stateDir);
    this.#keep = options.keep ?? KEEP;
    this.publicKey = publicKeyText(createPublicKey(this.#key));
  }

  /** Signs and keeps `record` (once per ticket), then drops the oldest beyond the bound. */
  write(record: JobRecord): SignedJobRecord {
    const signed = signJobRecord(record, this.#key);
    const path = join(this.#dir, `ticket-${record.ticket}.json`);
    if (!existsSync(path)) writeFileSync(path, `${canonicalJson(signed)}\n`, { mode: 0o600 });
    for (const old of this.tickets().slice(this.#keep)) rmSync(join(this.#dir, `ticket-${old}.json`), { force: true });
    return signed;
  }

  /** The tickets with a record, newest first. */
  tickets(): number[] {
    return readdirSync(this.#dir).flatMap((name) => { const m = FILE.exec(name); return m === null ? [] : [Number(m[1])]; }).sort((a, b) => b - a);
  }

  has(ticket: number): boolean {
    return existsSync(join(this.#dir, `ticket-${ticket}.json`));
  }

  /** The record of `ticket`; NOT_FOUND when there is none (still open, or dropped by the bound). */
  read(ticket: number): SignedJobRecord {
    let text: string;
    try {
      text = readFileSync(join(this.#dir, `ticket-${ticket}.json`), 'utf8');
    } catch (cause) {
      throw new KeyholeError('NOT_FOUND', `there is no job record of request ${ticket} on this gateway`, { cause });
    }
    return parseJsonWith(SignedJobRecordSchema, text, `job record ${ticket}`);
  }
}
