// Migration 202612011940: each ticket's time limit (the user's, within the center's bounds), its deadline, its warning, and operators' asks for more time.
import type { Kysely } from 'kysely';
import type { StoreDialect } from '../dialect.ts';
import { idColumn, type Table } from './id-column.ts';

export function ticketTimeLimit(dialect: StoreDialect) {
  const id = idColumn(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Null on tickets opened before this migration: they keep the old rule (expire `ticketTtl` after start).
      await db.schema.alterTable('tickets').addColumn('time_limit_ms', 'bigint').execute();
      // Set when work starts (started_at + time_limit_ms), moved by an accepted extension.
      await db.schema.alterTable('tickets').addColumn('deadline_at', 'bigint').execute();
      // Set once (compare-and-set from null) when the warning before the deadline went out; cleared when the deadline moves.
      await db.schema.alterTable('tickets').addColumn('warned_at', 'bigint').execute();
      await id(db.schema.createTable('ticket_extensions') as Table, 'id')
        .addColumn('ticket', 'bigint', (c) => c.notNull().references('tickets.number').onDelete('cascade'))
        .addColumn('extend_ms', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('asked_by', 'text', (c) => c.notNull())
        .addColumn('asked_at', 'bigint', (c) => c.notNull())
        .addColumn('answered_at', 'bigint')
        .execute();
      await db.schema.createIndex('ticket_extensions_ticket').on('ticket_extensions').column('ticket').execute();
    },
  };
}
