import { randomUUID } from 'node:crypto';
import { accessSync, chmodSync, closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AppendOptions, DeadLetter, DeadLetterReason, Outbox, OutboxRecord } from '@chatgpt-ads/core';
import Database from 'libsql';

/**
 * Why the outbox file cannot be used: read-only, disk full, or another SQLite failure. The message
 * names the file and what to change; `code` is SQLite's (`SQLITE_FULL`, `SQLITE_READONLY`, …) or
 * `ERR_OUTBOX_READONLY` / `ERR_OUTBOX_INVALID_ID` / `ERR_OUTBOX_NO_TRANSACTIONS` for what the outbox checks itself.
 *
 * @example
 * try {
 *   new SqliteOutbox({ path: '/read-only/conversions.db' });
 * } catch (error) {
 *   if (error instanceof SqliteOutboxError) console.error(error.message); // names the file and the fix
 * }
 */
export class SqliteOutboxError extends Error {
  override readonly name = 'SqliteOutboxError';
  constructor(
    message: string,
    readonly code: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// SQLite stores text up to the first NUL through the driver; any control character in an id is a
// caller's bug, and a truncated id would silently merge or split conversions.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

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
  /**
   * Permission bits of the database and its `-wal`/`-shm` files, set whatever the process umask is.
   * Default `0o600` (owner only): the file holds hashed identifiers, IPs, user agents and click ids.
   * Use `0o660` when processes of several users in one group share the file.
   */
  fileMode?: number;
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
  readonly #path: string;
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
    const path = resolve(options.path);
    this.#path = path;
    const mode = options.fileMode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777)
      throw new TypeError(`fileMode must be permission bits such as 0o600, not ${String(options.fileMode)}`);
    checkWritable(path);
    // Created here, before SQLite sees it, so the file is never readable by others even for an instant;
    // SQLite gives the -wal and -shm files the database file's mode.
    if (!existsSync(path)) {
      try {
        closeSync(openSync(path, 'wx', mode));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    restrict(path, mode);
    this.#db = new Database(path);
    try {
      this.#open(options);
      // A real write, so a file that cannot be written fails here and not on the first track().
      const version = this.#db.pragma('user_version', { simple: true }) as number;
      this.#db.exec(`PRAGMA user_version = ${Number(version) | 0}`);
    } catch (error) {
      this.#db.close();
      throw this.#explain(error);
    }
    for (const suffix of ['-wal', '-shm']) restrict(path + suffix, mode);
    this.#statements = this.#prepare();
    this.#approximateSize = this.#count();
  }

  #open(options: SqliteOutboxOptions): void {
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
  }

  #prepare() {
    const db = this.#db;
    return {
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
  }

  /**
   * Runs `fn` in a transaction. libsql's own wrapper answers a failed statement with its ROLLBACK's
   * error ("cannot rollback - no transaction is active": SQLite already rolled back on a full disk),
   * hiding the cause; here the cause is kept and explained.
   */
  #transaction<T>(fn: () => T, mode: 'DEFERRED' | 'IMMEDIATE' = 'DEFERRED'): T {
    return this.#guard(() => {
      this.#db.exec(`BEGIN ${mode}`);
      try {
        const result = fn();
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.#db.inTransaction) {
          try {
            this.#db.exec('ROLLBACK');
          } catch {
            // The original error says what went wrong; a failed rollback adds nothing.
          }
        }
        throw error;
      }
    });
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw this.#explain(error);
    }
  }

  #explain(error: unknown): Error {
    if (error instanceof SqliteOutboxError) return error;
    const code = String((error as { code?: unknown }).code ?? '');
    const detail = error instanceof Error ? error.message : String(error);
    if (code.startsWith('SQLITE_FULL'))
      return new SqliteOutboxError(
        `outbox ${this.#path}: disk full (SQLITE_FULL): free space on its disk; events already stored are kept and sent once it can write again`,
        'SQLITE_FULL',
        this.#path,
        { cause: error },
      );
    if (
      code.startsWith('SQLITE_READONLY') ||
      code.startsWith('SQLITE_CANTOPEN') ||
      code.startsWith('SQLITE_PERM')
    )
      return new SqliteOutboxError(
        `outbox ${this.#path}: cannot write the file (${code}: ${detail}): the process needs write access to the file, its -wal and -shm files and their directory`,
        code,
        this.#path,
        { cause: error },
      );
    return new SqliteOutboxError(
      `outbox ${this.#path}: ${code ? `${code}: ` : ''}${detail}`,
      code || 'ERR_OUTBOX',
      this.#path,
      {
        cause: error,
      },
    );
  }

  #count(): number {
    return this.#guard(() => (this.#statements.count.get() as { n: number }).n);
  }

  async append(record: OutboxRecord, options?: AppendOptions): Promise<'appended' | 'duplicate' | 'full'> {
    // Storing outside the app's transaction would send an event the app may roll back.
    if (options?.transaction !== undefined)
      throw new SqliteOutboxError(
        `outbox ${this.#path}: a SQLite file cannot join your transaction; use @chatgpt-ads/outbox-postgres for transactional enqueue`,
        'ERR_OUTBOX_NO_TRANSACTIONS',
        this.#path,
      );
    if (CONTROL_CHARACTER.test(record.id) || CONTROL_CHARACTER.test(record.key))
      throw new SqliteOutboxError(
        `outbox ${this.#path}: event id ${JSON.stringify(record.id)} contains a control character; ids must be printable text`,
        'ERR_OUTBOX_INVALID_ID',
        this.#path,
      );
    // Counting every time would cost a scan per event; recount every 1,000 appends (other processes append too).
    if (++this.#appendsSinceCount >= 1000 || this.#approximateSize >= this.#capacity) {
      this.#appendsSinceCount = 0;
      this.#approximateSize = this.#count();
    }
    if (this.#approximateSize >= this.#capacity) return 'full';
    const { changes } = this.#guard(() =>
      this.#statements.insert.run(
        record.key,
        record.id,
        record.body,
        record.bytes,
        record.timestampMs,
        record.acceptedAt,
        record.attempts,
      ),
    );
    if (changes === 0) return 'duplicate';
    this.#approximateSize++;
    return 'appended';
  }

  async claim(limits: { maxEvents: number; maxBytes: number }): Promise<OutboxRecord[]> {
    const now = this.#now();
    // IMMEDIATE takes the write lock before reading, so two processes never lease the same row.
    return this.#transaction(() => {
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
    }, 'IMMEDIATE');
  }

  async ack(keys: readonly string[]): Promise<void> {
    this.#transaction(() => {
      for (const key of keys) this.#statements.ack.run(key, this.#owner);
    });
    this.#approximateSize = Math.max(0, this.#approximateSize - keys.length);
  }

  async release(records: readonly OutboxRecord[]): Promise<void> {
    this.#transaction(() => {
      for (const record of records) this.#statements.release.run(record.attempts, record.key, this.#owner);
    });
  }

  async deadLetter(
    letters: readonly { key: string; reason: DeadLetterReason; message: string; at: number }[],
  ): Promise<void> {
    this.#transaction(() => {
      for (const letter of letters)
        this.#statements.dead.run(letter.reason, letter.message, letter.at, letter.key, this.#owner);
      this.#statements.pruneDeadByAge.run(this.#now() - this.#deadLetterRetentionMs);
      this.#statements.pruneDeadByCount.run(this.#deadLetterCapacity);
    });
    this.#approximateSize = Math.max(0, this.#approximateSize - letters.length);
  }

  async size(): Promise<number> {
    return this.#count();
  }

  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = this.#guard(() => this.#statements.listDead.all(options.limit ?? -1) as Row[]);
    return rows.map((row) => ({
      record: toRecord(row),
      reason: row.dead_reason!,
      message: row.dead_message ?? '',
      at: row.dead_at ?? 0,
    }));
  }

  async replay(keys?: readonly string[]): Promise<number> {
    const count = this.#transaction(() => {
      if (!keys) return this.#statements.replayAll.run().changes;
      let changes = 0;
      for (const key of keys) changes += this.#statements.replayOne.run(key).changes;
      return changes;
    });
    this.#approximateSize += count;
    return count;
  }

  /** Deletes dead letters (all, or those keys) for good; returns how many. */
  async purge(keys?: readonly string[]): Promise<number> {
    return this.#transaction(() => {
      if (!keys) return this.#statements.purgeAll.run().changes;
      let changes = 0;
      for (const key of keys) changes += this.#statements.purgeOne.run(key).changes;
      return changes;
    });
  }

  async pending(keys: readonly string[]): Promise<string[]> {
    return this.#guard(() => keys.filter((key) => this.#statements.pending.get(key) !== undefined));
  }

  /** Closes the file. */
  close(): void {
    this.#db.close();
  }
}

/**
 * Throws a clear error when the file, its directory (where SQLite creates `-wal` and `-shm`) or an
 * existing `-wal`/`-shm` cannot be written: at construction, not on the first track().
 */
function checkWritable(path: string): void {
  const fail = (what: string, error: unknown) =>
    new SqliteOutboxError(
      `outbox ${path}: ${what} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)}): the process needs write access to the file, its -wal and -shm files and their directory`,
      'ERR_OUTBOX_READONLY',
      path,
      { cause: error },
    );
  const directory = dirname(path);
  try {
    accessSync(directory, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw fail(`its directory ${directory}`, error);
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (!existsSync(file)) continue;
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw fail(file === path ? 'the file' : file, error);
    }
  }
}

/** Sets `mode` on a file this process owns (another user's shared file is left as its owner set it). */
function restrict(file: string, mode: number): void {
  try {
    const stat = statSync(file);
    if ((stat.mode & 0o777) === mode) return;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return;
    chmodSync(file, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
