// One host: the app's tables in one SQLite file, and each shop's outbox in a file of its own beside
// it (`<file>.outbox/<shop>.db`), so queued conversions survive a restart or a deploy.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Outbox } from '@chatgpt-ads/core';
import { SqliteOutbox } from '@chatgpt-ads/outbox-sqlite';
import Database from 'libsql';
import type { SqlDatabase, StorageBackend } from './storage.js';

/**
 * The app's storage on one host.
 *
 * @example
 * const store = await AppStore.open(openSqliteBackend('/var/lib/chatgpt-ads/app.db'), keyRing);
 */
export function openSqliteBackend(path: string): StorageBackend {
  const sqlite = new Database(path);
  sqlite.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;');
  try {
    // Sessions hold Shopify access tokens: readable by the app's user only.
    chmodSync(path, 0o600);
  } catch {
    // An in-memory or special path: nothing to tighten.
  }
  const db: SqlDatabase = {
    engine: 'sqlite',
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return sqlite.prepare(sql).all(...params) as T[];
    },
    async run(sql: string, params: readonly unknown[] = []) {
      return sqlite.prepare(sql).run(...params).changes;
    },
    async batch(statements) {
      sqlite.transaction(() => {
        for (const [sql, params] of statements) sqlite.prepare(sql).run(...params);
      })();
    },
    async migrate(statements) {
      sqlite.transaction(() => {
        for (const sql of statements) sqlite.exec(sql);
      })();
    },
    async close() {
      sqlite.close();
    },
  };
  const outboxes = new Map<string, SqliteOutbox>();
  const folder = `${path}.outbox`;
  return {
    db,
    outboxFor(shop: string): Outbox {
      let outbox = outboxes.get(shop);
      if (!outbox) {
        mkdirSync(folder, { recursive: true, mode: 0o700 });
        // Shop domains are checked (`name.myshopify.com`) before they get here: safe as file names.
        outbox = new SqliteOutbox({ path: join(folder, `${shop}.db`) });
        outboxes.set(shop, outbox);
      }
      return outbox;
    },
    async dropOutbox(shop: string) {
      outboxes.get(shop)?.close();
      outboxes.delete(shop);
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(folder, `${shop}.db${suffix}`), { force: true });
    },
    async close() {
      for (const outbox of outboxes.values()) outbox.close();
      outboxes.clear();
      sqlite.close();
    },
  };
}
