// Migration 202612011050: race-free login limiting (one counter row per key, reserved before hashing) and the center's form secret.
import type { Kysely } from 'kysely';

export function consoleLimits() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Attempts, not failures: a row is bumped by one conditional upsert before the password is hashed.
      await db.schema.createTable('console_login_attempts')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.dropTable('console_login_failures').execute();

      // Secrets the center makes for itself (the console's CSRF key): made once, shared by every replica.
      await db.schema.createTable('center_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
