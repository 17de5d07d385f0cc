// The center's copy of a job record: built when a ticket closes, signed with the center's record key, kept in job_records.
import { canonicalJson, signJobRecord } from '../../protocol/job-record.ts';
import { centerJobRecord } from '../job-record.ts';
import type { Tx } from '../context.ts';
import type { RecordKey } from '../record-key.ts';

/** Builds, signs and stores the record of closed ticket `number`, in the transaction that closed it. */
export async function writeJobRecord(trx: Tx, number: number, key: RecordKey, now: number): Promise<void> {
  const record = await centerJobRecord(trx, number, now);
  const signed = signJobRecord(record, key.privateKey);
  await trx.insertInto('job_records').values({ ticket: number, site: record.site, signed: canonicalJson(signed), written_at: now })
    .onConflict((oc) => oc.column('ticket').doNothing()).execute();
}
