// The center's job-record key: an Ed25519 key the center keeps in its store (made once, shared by every replica) that signs its job records.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { newRecordKey, publicKeyText } from '../protocol/job-record.ts';
import { KeyholeError } from '../protocol/errors.ts';
import type { Database } from '../store/schema.ts';

const NAME = 'job-record-key';
const loaded = new WeakMap<object, Promise<RecordKey>>();

export interface RecordKey {
  privateKey: KeyObject;
  /** The public half as published (GET /v1/record-key). */
  publicText: string;
}

async function load(db: Kysely<Database>, now: number): Promise<RecordKey> {
  // Replicas racing on an empty store: the first insert wins, everyone reads the winner.
  const fresh = newRecordKey().privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  await db.insertInto('center_secrets').values({ name: NAME, value: fresh, created_at: now })
    .onConflict((oc) => oc.column('name').doNothing()).execute();
  const row = await db.selectFrom('center_secrets').select('value').where('name', '=', NAME).executeTakeFirstOrThrow();
  try {
    const privateKey = createPrivateKey({ key: Buffer.from(row.value, 'base64'), format: 'der', type: 'pkcs8' });
    return { privateKey, publicText: publicKeyText(createPublicKey(privateKey)) };
  } catch (cause) {
    throw new KeyholeError('INTERNAL', 'the job-record key in the store is damaged', { cause });
  }
}

/**
 * The key of this store, loaded (or made) once per process, outside any transaction (a key made inside one that
 * rolled back would sign records nobody could check). A failed load is retried on the next call.
 */
export function recordKey(db: Kysely<Database>, now: () => number = Date.now): Promise<RecordKey> {
  let key = loaded.get(db);
  if (key === undefined) {
    key = load(db, now());
    loaded.set(db, key);
    key.catch(() => { loaded.delete(db); });
  }
  return key;
}
