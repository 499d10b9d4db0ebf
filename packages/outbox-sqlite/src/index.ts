import { randomUUID } from 'node:crypto';
import type { DeadLetter, DeadLetterReason, Outbox, OutboxRecord } from '@chatgpt-ads/core';
import Database from 'libsql';

/**
 * Options of {@link SqliteOutbox}.
 *
 * @example
 * new SqliteOutbox({ path: '/var/lib/shop/conversions.db', leaseMs: 60_000 });
 */
export interface SqliteOutboxOptions {
  /** The SQLite file. Several processes may share it. */
  path: string;
  /** How long a claimed batch belongs to its sender; a crashed sender's batch is claimable after it. Default 60 s. */
  leaseMs?: number;
  /** Most events waiting or leased; `append` answers `full` beyond it. Default 1,000,000. */
  capacity?: number;
  /** Dead letters kept; the oldest beyond this are deleted. Default 100,000. */
  deadLetterCapacity?: number;
  /** Dead letters older than this are deleted. Default 30 days. */
  deadLetterRetentionMs?: number;
  /**
   * SQLite `synchronous`: `NORMAL` (default) keeps every appended event through a process crash,
   * OOM kill or deploy; `FULL` also through a power loss, at the cost of an fsync per append.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Row {
  key: string;
  id: string;
  body: string;
  bytes: number;
  timestamp_ms: number;
  accepted_at: number;
  attempts: number;
  dead_reason?: DeadLetterReason;
  dead_message?: string;
  dead_at?: number;
}

const toRecord = (row: Row): OutboxRecord => ({
  key: row.key,
  id: row.id,
  body: row.body,
  bytes: row.bytes,
  timestampMs: row.timestamp_ms,
  acceptedAt: row.accepted_at,
  attempts: row.attempts,
});

/**
 * A durable outbox on an embedded SQLite file (WAL mode). An event is on disk before `track`
 * resolves; a claimed batch is leased to its sender, and a crashed sender's lease expires so the batch
 * is sent again with the same bytes; acks and dead letters are transactions; delivered rows are
 * deleted at once; dead letters are bounded by count and age. Processes sharing the file each claim
 * different rows, so no event is sent by two live senders.
 *
 * @example
 * import { createConversions } from '@chatgpt-ads/core';
 * import { SqliteOutbox } from '@chatgpt-ads/outbox-sqlite';
 *
 * const conversions = createConversions({ pixelId, apiKey, outbox: new SqliteOutbox({ path: './conversions.db' }) });
 */
export class SqliteOutbox implements Outbox {
  readonly #db: Database.Database;
  readonly #owner = randomUUID();
  readonly #leaseMs: number;
  readonly #capacity: number;
  readonly #deadLetterCapacity: number;
  readonly #deadLetterRetentionMs: number;
  readonly #now: () => number;
  #appendsSinceCount = 0;
  #approximateSize = 0;
  readonly #statements;

  constructor(options: SqliteOutboxOptions) {
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#capacity = options.capacity ?? 1_000_000;
    this.#deadLetterCapacity = options.deadLetterCapacity ?? 100_000;
    this.#deadLetterRetentionMs = options.deadLetterRetentionMs ?? 30 * 86_400_000;
    this.#now = options.now ?? Date.now;
    this.#db = new Database(options.path);
    // busy_timeout first: another process may be creating the file or switching it to WAL right now.
    this.#db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'};
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        accepted_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'leased', 'dead')),
        lease_owner TEXT,
        lease_until INTEGER,
        dead_reason TEXT,
        dead_message TEXT,
        dead_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS outbox_state_seq ON outbox (state, seq);
    `);
    const db = this.#db;
    this.#statements = {
      insert: db.prepare(
        `INSERT INTO outbox (key, id, body, bytes, timestamp_ms, accepted_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET id = excluded.id, body = excluded.body, bytes = excluded.bytes,
           timestamp_ms = excluded.timestamp_ms, accepted_at = excluded.accepted_at, attempts = 0, state = 'waiting',
           lease_owner = NULL, lease_until = NULL, dead_reason = NULL, dead_message = NULL, dead_at = NULL
         WHERE outbox.state = 'dead'`,
      ),
      count: db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE state IN ('waiting', 'leased')`),
      claimable: db.prepare(
        `SELECT key, id, body, bytes, timestamp_ms, accepted_at, attempts FROM outbox
         WHERE state = 'waiting' OR (state = 'leased' AND lease_until <= ?) ORDER BY seq LIMIT ?`,
      ),
      lease: db.prepare(`UPDATE outbox SET state = 'leased', lease_owner = ?, lease_until = ? WHERE key = ?`),
      ack: db.prepare(`DELETE FROM outbox WHERE key = ? AND state = 'leased' AND lease_owner = ?`),
      release: db.prepare(
        `UPDATE outbox SET state = 'waiting', attempts = ?, lease_owner = NULL, lease_until = NULL
         WHERE key = ? AND state = 'leased' AND lease_owner = ?`,
      ),
      dead: db.prepare(
        `UPDATE outbox SET state = 'dead', dead_reason = ?, dead_message = ?, dead_at = ?, lease_owner = NULL, lease_until = NULL
         WHERE key = ? AND state = 'leased' AND lease_owner = ?`,
      ),
      pruneDeadByAge: db.prepare(`DELETE FROM outbox WHERE state = 'dead' AND dead_at < ?`),
      pruneDeadByCount: db.prepare(
        `DELETE FROM outbox WHERE state = 'dead' AND seq NOT IN (SELECT seq FROM outbox WHERE state = 'dead' ORDER BY dead_at DESC, seq DESC LIMIT ?)`,
      ),
      listDead: db.prepare(
        `SELECT key, id, body, bytes, timestamp_ms, accepted_at, attempts, dead_reason, dead_message, dead_at
         FROM outbox WHERE state = 'dead' ORDER BY dead_at, seq LIMIT ?`,
      ),
      replayOne: db.prepare(
        `UPDATE outbox SET state = 'waiting', attempts = 0, dead_reason = NULL, dead_message = NULL, dead_at = NULL WHERE key = ? AND state = 'dead'`,
      ),
      replayAll: db.prepare(
        `UPDATE outbox SET state = 'waiting', attempts = 0, dead_reason = NULL, dead_message = NULL, dead_at = NULL WHERE state = 'dead'`,
      ),
      purgeOne: db.prepare(`DELETE FROM outbox WHERE key = ? AND state = 'dead'`),
      purgeAll: db.prepare(`DELETE FROM outbox WHERE state = 'dead'`),
      pending: db.prepare(`SELECT 1 FROM outbox WHERE key = ? AND state IN ('waiting', 'leased')`),
    };
    this.#approximateSize = this.#count();
  }

  #count(): number {
    return (this.#statements.count.get() as { n: number }).n;
  }

  async append(record: OutboxRecord): Promise<'appended' | 'duplicate' | 'full'> {
    // Counting every time would cost a scan per event; recount every 1,000 appends (other processes append too).
    if (++this.#appendsSinceCount >= 1000 || this.#approximateSize >= this.#capacity) {
      this.#appendsSinceCount = 0;
      this.#approximateSize = this.#count();
    }
    if (this.#approximateSize >= this.#capacity) return 'full';
    const { changes } = this.#statements.insert.run(
      record.key,
      record.id,
      record.body,
      record.bytes,
      record.timestampMs,
      record.acceptedAt,
      record.attempts,
    );
    if (changes === 0) return 'duplicate';
    this.#approximateSize++;
    return 'appended';
  }

  async claim(limits: { maxEvents: number; maxBytes: number }): Promise<OutboxRecord[]> {
    const now = this.#now();
    const claim = this.#db.transaction(() => {
      const rows = this.#statements.claimable.all(now, limits.maxEvents) as Row[];
      const batch: OutboxRecord[] = [];
      let bytes = 0;
      for (const row of rows) {
        if (batch.length > 0 && bytes + row.bytes > limits.maxBytes) break;
        batch.push(toRecord(row));
        bytes += row.bytes;
        this.#statements.lease.run(this.#owner, now + this.#leaseMs, row.key);
      }
      return batch;
    });
    // IMMEDIATE takes the write lock before reading, so two processes never lease the same row.
    return claim.immediate();
  }

  async ack(keys: readonly string[]): Promise<void> {
    this.#db.transaction(() => {
      for (const key of keys) this.#statements.ack.run(key, this.#owner);
    })();
    this.#approximateSize = Math.max(0, this.#approximateSize - keys.length);
  }

  async release(records: readonly OutboxRecord[]): Promise<void> {
    this.#db.transaction(() => {
      for (const record of records) this.#statements.release.run(record.attempts, record.key, this.#owner);
    })();
  }

  async deadLetter(
    letters: readonly { key: string; reason: DeadLetterReason; message: string; at: number }[],
  ): Promise<void> {
    this.#db.transaction(() => {
      for (const letter of letters)
        this.#statements.dead.run(letter.reason, letter.message, letter.at, letter.key, this.#owner);
      this.#statements.pruneDeadByAge.run(this.#now() - this.#deadLetterRetentionMs);
      this.#statements.pruneDeadByCount.run(this.#deadLetterCapacity);
    })();
    this.#approximateSize = Math.max(0, this.#approximateSize - letters.length);
  }

  async size(): Promise<number> {
    return this.#count();
  }

  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = this.#statements.listDead.all(options.limit ?? -1) as Row[];
    return rows.map((row) => ({
      record: toRecord(row),
      reason: row.dead_reason!,
      message: row.dead_message ?? '',
      at: row.dead_at ?? 0,
    }));
  }

  async replay(keys?: readonly string[]): Promise<number> {
    const count = this.#db.transaction(() => {
      if (!keys) return this.#statements.replayAll.run().changes;
      let changes = 0;
      for (const key of keys) changes += this.#statements.replayOne.run(key).changes;
      return changes;
    })();
    this.#approximateSize += count;
    return count;
  }

  /** Deletes dead letters (all, or those keys) for good; returns how many. */
  async purge(keys?: readonly string[]): Promise<number> {
    return this.#db.transaction(() => {
      if (!keys) return this.#statements.purgeAll.run().changes;
      let changes = 0;
      for (const key of keys) changes += this.#statements.purgeOne.run(key).changes;
      return changes;
    })();
  }

  async pending(keys: readonly string[]): Promise<string[]> {
    return keys.filter((key) => this.#statements.pending.get(key) !== undefined);
  }

  /** Closes the file. */
  close(): void {
    this.#db.close();
  }
}
