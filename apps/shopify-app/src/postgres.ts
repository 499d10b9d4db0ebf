// Several instances: the app's tables and every shop's outbox in one PostgreSQL database
// (DATABASE_URL), so any instance can answer any webhook or page, a redelivery claimed by one is a
// duplicate for all, and a conversion queued by one is sent by whichever is free.
import { createHash } from 'node:crypto';
import type { Outbox } from '@chatgpt-ads/core';
import { PostgresOutbox } from '@chatgpt-ads/outbox-postgres';
import pg from 'pg';
import type { SqlDatabase, StorageBackend } from './storage.js';

// Serializes schema changes across instances that start at once (CREATE … IF NOT EXISTS can race).
const SCHEMA_LOCK = 0x5b0a_11a5;

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the store's SQL has no `?` inside strings). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The outbox table of one shop: each shop sends with its own pixel and key, so each has its own queue. */
export function outboxTable(shop: string): string {
  return `chatgpt_ads_outbox_${createHash('sha256').update(shop).digest('hex').slice(0, 16)}`;
}

/**
 * The app's storage in PostgreSQL, shared by every instance.
 *
 * @example
 * const app = await createShopifyApp({ ...options, storage: openPostgresBackend(process.env.DATABASE_URL!) });
 */
export function openPostgresBackend(
  connectionString: string,
  options: { poolSize?: number } = {},
): StorageBackend {
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 8 });
  // An idle connection the server drops (a restart, a failover) must not end the process.
  pool.on('error', () => undefined);
  const inTransaction = async (work: (client: pg.PoolClient) => Promise<void>) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  const db: SqlDatabase = {
    engine: 'postgres',
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(numbered(sql), [...params])).rows as T[];
    },
    async run(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(numbered(sql), [...params])).rowCount ?? 0;
    },
    async batch(statements) {
      await inTransaction(async (client) => {
        for (const [sql, params] of statements) await client.query(numbered(sql), [...params]);
      });
    },
    async migrate(statements) {
      await inTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        for (const sql of statements) await client.query(sql);
      });
    },
    async close() {
      await pool.end();
    },
  };
  const outboxes = new Map<string, PostgresOutbox>();
  return {
    db,
    outboxFor(shop: string): Outbox {
      let outbox = outboxes.get(shop);
      if (!outbox) {
        outbox = new PostgresOutbox({ pool, table: outboxTable(shop) });
        outboxes.set(shop, outbox);
      }
      return outbox;
    },
    async dropOutbox(shop: string) {
      await outboxes.get(shop)?.close();
      outboxes.delete(shop);
      await pool.query(`DROP TABLE IF EXISTS ${outboxTable(shop)}`);
    },
    async close() {
      for (const outbox of outboxes.values()) await outbox.close();
      outboxes.clear();
      await pool.end();
    },
  };
}
