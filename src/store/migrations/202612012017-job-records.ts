// Migration 202612012017: the center's signed job record of every ended ticket (issue 13 item 4).
import type { Kysely } from 'kysely';

export function jobRecords() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row per closed ticket, written in the transaction that closes it: the signed record as canonical JSON text.
      // No foreign key: a record outlives its ticket's row (deleteSite removes tickets; the record stays, as the audit does).
      await db.schema.createTable('job_records')
        .addColumn('ticket', 'bigint', (c) => c.primaryKey())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('signed', 'text', (c) => c.notNull())
        .addColumn('written_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('job_records_site').on('job_records').columns(['site', 'ticket']).execute();
    },
  };
}
