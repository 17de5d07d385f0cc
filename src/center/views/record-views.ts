// Reading the center's job records: one ticket's signed record as stored when it closed.
import { KeyholeError } from '../../protocol/errors.ts';
import { parseJsonWith } from '../../protocol/validate.ts';
import { SignedJobRecordSchema, type SignedJobRecord } from '../../protocol/schemas/job-record.ts';
import type { Db } from '../context.ts';

/** The signed record of `ticket`; TICKET_UNKNOWN for no such ticket, NOT_FOUND for one still open (or closed before records). */
export async function getJobRecord(db: Db, ticket: number): Promise<SignedJobRecord> {
  const row = await db.selectFrom('job_records').select('signed').where('ticket', '=', ticket).executeTakeFirst();
  if (row === undefined) {
    const exists = await db.selectFrom('tickets').select('state').where('number', '=', ticket).executeTakeFirst();
    if (exists === undefined) throw new KeyholeError('TICKET_UNKNOWN', `there is no ticket ${ticket}`);
    throw new KeyholeError('NOT_FOUND', `ticket ${ticket} has no job record: it is ${exists.state} (a record is written when a ticket ends)`);
  }
  return parseJsonWith(SignedJobRecordSchema, row.signed, `the stored job record of ticket ${ticket}`);
}
