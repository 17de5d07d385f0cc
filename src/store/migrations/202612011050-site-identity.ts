// Migration 202612011050: pinned site identity — one-time enrollment tokens (hashed), enrollment rate-limit windows, an index for site expiry.
import type { Kysely } from 'kysely';

export function siteIdentity() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // One outstanding token per site id; only its SHA-256 is kept, so a copy of the store enrolls nobody.
      await db.schema.createTable('enroll_tokens')
        .addColumn('site', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('enroll_tokens_expires').on('enroll_tokens').column('expires_at').execute();

      // A fixed window per key (`addr:IP`, `fleet`), bumped by one atomic upsert per attempt.
      await db.schema.createTable('enroll_limits')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .execute();

      await db.schema.createIndex('sites_last_seen').on('sites').columns(['last_seen_at', 'enrolled_at']).execute();
    },
  };
}
