// Migration 202612011049: per-hub credentials — one token per hub name, stored only as its SHA-256.
import type { Kysely } from 'kysely';

export function hubCredentials() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('hub_credentials')
        .addColumn('hub', 'text', (c) => c.primaryKey())
        // Hex SHA-256 of the token: the token itself is printed once and lives only on the hub.
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
