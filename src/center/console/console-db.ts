// The console's tables (migrations 202611251200-console, 202612011050-console-limits) as Kysely types, and the store seen with them.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Db } from '../context.ts';

type Millis = number;

export interface OperatorsTable {
  name: string;
  password_hash: string;
  created_at: Millis;
  updated_at: Millis;
}

export interface ConsoleSessionsTable {
  /** SHA-256 of the session id (hex); the id itself lives only in the operator's cookie. */
  id_hash: string;
  operator: string;
  created_at: Millis;
  last_seen_at: Millis;
  expires_at: Millis;
}

export interface ConsoleLoginAttemptsTable {
  /** `ip:ADDRESS` or `name:HASH`. */
  key: string;
  /** When the counting window of this key began. */
  window_start: Millis;
  /** Attempts reserved in the window (each before its password was hashed). */
  attempts: number;
}

export interface CenterSecretsTable {
  name: string;
  /** base64. */
  value: string;
  created_at: Millis;
}

export interface PoolSamplesTable {
  at: Millis;
  size: number;
  leased: number;
  releasing: number;
}

export interface ConsoleTables {
  operators: OperatorsTable;
  console_sessions: ConsoleSessionsTable;
  console_login_attempts: ConsoleLoginAttemptsTable;
  center_secrets: CenterSecretsTable;
  pool_samples: PoolSamplesTable;
}

export type ConsoleDb = Kysely<Database & ConsoleTables>;

/** The center's store with the console's tables visible (they exist once the store is migrated). */
export function consoleDb(db: Db | Kysely<Database>): ConsoleDb {
  return db as unknown as ConsoleDb;
}
