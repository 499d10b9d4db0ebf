import { randomUUID } from 'node:crypto';
import type { AppendOptions, DeadLetter, DeadLetterReason, Outbox, OutboxRecord } from '@chatgpt-ads/core';
import pg from 'pg';

/**
 * Why the outbox could not do what was asked. `code` is PostgreSQL's SQLSTATE (`42501` for a missing
 * privilege, `53100` for a full disk, …), a network error code (`ECONNREFUSED`), or one the outbox sets
 * itself: `ERR_OUTBOX_OPTIONS`, `ERR_OUTBOX_INVALID_ID`, `ERR_OUTBOX_TRANSACTION`, `ERR_OUTBOX_ENCODING`,
 * `ERR_OUTBOX_CLOSED`, `ERR_OUTBOX_MISSING`. The message names the table and what to change, never the password.
 *
 * @example
 * try {
 *   await outbox.migrate();
 * } catch (error) {
 *   if (error instanceof PostgresOutboxError && error.code === '42501') console.error(error.message);
 * }
 */
export class PostgresOutboxError extends Error {
  override readonly name = 'PostgresOutboxError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Something with `query()` that runs inside the app's transaction: a `pg.Client` or a `pg.PoolClient`
 * on which the app has run `BEGIN`.
 *
 * @example
 * const client: TransactionClient = await pool.connect();
 * await client.query('BEGIN');
 */
export interface TransactionClient {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
}

/**
 * Options of {@link PostgresOutbox}: `connectionString` or `pool`, and the rest optional.
 *
 * @example
 * new PostgresOutbox({ connectionString: process.env.DATABASE_URL, schema: 'shop', table: 'conversions_outbox' });
 */
export interface PostgresOutboxOptions {
  /** `postgres://user:password@host:5432/db`. The outbox opens its own pool of `poolSize` connections. */
  connectionString?: string;
  /** An existing `pg.Pool` (your app's). The outbox borrows connections and never ends it. */
  pool?: pg.Pool;
  /** Schema of the table, created when missing. Default `public`. */
  schema?: string;
  /** Table name. Default `chatgpt_ads_outbox`. Lowercase letters, digits and `_`, at most 40 characters. */
  table?: string;
  /** Connections of the pool the outbox opens from `connectionString` (plus one for LISTEN). Default 4. */
  poolSize?: number;
  /** How long a claimed batch belongs to its sender; a killed sender's batch is claimable after it. Default 60 s. */
  leaseMs?: number;
  /** Most events waiting or leased; `append` answers `full` beyond it. Default 1,000,000. */
  capacity?: number;
  /**
   * How long a delivered event's key is kept (its body is dropped at delivery) so that the same event
   * tracked again anywhere in the fleet is refused as a duplicate. Default 7 days, the age beyond which
   * the API refuses an event anyway. `0` deletes delivered rows at once.
   */
  dedupWindowMs?: number;
  /** Dead letters kept; the oldest beyond this are deleted. Default 100,000. */
  deadLetterCapacity?: number;
  /** Dead letters older than this are deleted. Default 30 days. */
  deadLetterRetentionMs?: number;
  /** At most one pruning pass per this interval per process, after an ack or a dead letter. Default 60 s. */
  pruneIntervalMs?: number;
  /** Send `NOTIFY` when an event is stored (delivered at commit) so {@link PostgresOutbox.onWake} listeners hear it. Default true. */
  notify?: boolean;
  /** {@link PostgresOutbox.onWake} listeners are called this long after a notification, at most once per interval; keep it ≥ `batchWindowMs`. Default 1,000 ms. */
  wakeDelayMs?: number;
  /**
   * Fleet-wide batching: a claim that would take less than a full batch waits until the oldest
   * waiting event has been stored this long, so N senders still send full batches instead of
   * sweeping the table event by event. Set it to the client's `batch.flushIntervalMs`. Full batches,
   * retries and expired leases are claimed at once. Default 1,000 ms; `0` claims whatever waits.
   */
  batchWindowMs?: number;
  /** How long an operation on the outbox's own connections retries a dropped connection (a restart, a failover). Default 10 s. */
  retryMs?: number;
  /** Clock for leases and pruning, for tests. Default: the database server's clock, shared by the whole fleet. */
  now?: () => number;
  /**
   * Create the table when it is missing. Default true. `false` (tools that only inspect an existing
   * outbox) makes every operation fail with `ERR_OUTBOX_MISSING` instead: a wrong database or table
   * name never creates an empty outbox.
   */
  create?: boolean;
}

interface Row {
  seq: string;
  key: string;
  id: string;
  body: string;
  bytes: number;
  timestamp_ms: string;
  accepted_at: string;
  attempts: number;
  dead_reason?: DeadLetterReason;
  dead_message?: string | null;
  dead_at?: string | null;
}

const toRecord = (row: Row): OutboxRecord => ({
  key: row.key,
  id: row.id,
  body: row.body,
  bytes: row.bytes,
  timestampMs: Number(row.timestamp_ms),
  acceptedAt: Number(row.accepted_at),
  attempts: row.attempts,
});

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
// PostgreSQL text cannot hold NUL; a truncated or refused id would silently merge or lose conversions.
const NUL = /\u0000/;
const CHUNK = 5_000;
// The schema version this code writes. Migrations only ever add, so an older process keeps working
// on a table a newer one migrated.
const VERSION = 1;
const LOCK_CLASS = 0x0c4a7ad5;

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

function isConnectionError(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  if (CONNECTION_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * A durable outbox on PostgreSQL for a fleet of servers: every instance appends to and sends from one
 * table. An event is committed before `track` resolves (or inside your own transaction); its dedup key
 * is unique across the fleet; senders claim batches with `FOR UPDATE SKIP LOCKED` under a lease, so no
 * two live senders send the same event, and a killed sender's batch is sent again with the same bytes
 * once its lease expires. The table is created and migrated by the first instance that needs it.
 *
 * @example
 * import { createConversions } from '@chatgpt-ads/core';
 * import { PostgresOutbox } from '@chatgpt-ads/outbox-postgres';
 *
 * const outbox = new PostgresOutbox({ connectionString: process.env.DATABASE_URL });
 * const conversions = createConversions({ pixelId, apiKey, outbox });
 */
export class PostgresOutbox implements Outbox {
  readonly #pool: pg.Pool;
  readonly #ownPool: boolean;
  readonly #connectionString: string | undefined;
  readonly #schema: string;
  readonly #table: string;
  readonly #t: string;
  readonly #channel: string;
  readonly #owner = randomUUID();
  readonly #leaseMs: number;
  readonly #capacity: number;
  readonly #dedupWindowMs: number;
  readonly #deadLetterCapacity: number;
  readonly #deadLetterRetentionMs: number;
  readonly #pruneIntervalMs: number;
  readonly #notify: boolean;
  readonly #wakeDelayMs: number;
  readonly #batchWindowMs: number;
  readonly #retryMs: number;
  readonly #now: (() => number) | undefined;
  readonly #create: boolean;
  #ready: Promise<void> | undefined;
  #closed = false;
  #appendsSinceCount = 0;
  #approximateSize = -1;
  #lastPrune = 0;
  #pruning: Promise<unknown> | undefined;
  readonly #listeners = new Set<() => void>();
  #listener: { client: pg.Client | pg.PoolClient; release: () => Promise<void> } | undefined;
  #listening: Promise<void> | undefined;
  #wakeTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: PostgresOutboxOptions) {
    const fail = (message: string) => new PostgresOutboxError(message, 'ERR_OUTBOX_OPTIONS');
    if (typeof options !== 'object' || options === null)
      throw fail('PostgresOutbox needs { connectionString } or { pool }');
    if ((options.connectionString === undefined) === (options.pool === undefined))
      throw fail(
        'PostgresOutbox needs exactly one of connectionString (e.g. process.env.DATABASE_URL) or pool (an existing pg.Pool)',
      );
    if (options.connectionString !== undefined && typeof options.connectionString !== 'string')
      throw fail('connectionString must be a string such as postgres://user:password@host:5432/db');
    if (options.connectionString === '')
      throw fail('connectionString is empty: is DATABASE_URL set in this environment?');
    this.#schema = options.schema ?? 'public';
    this.#table = options.table ?? 'chatgpt_ads_outbox';
    if (!IDENTIFIER.test(this.#schema) || this.#schema.length > 40)
      throw fail(`schema ${JSON.stringify(this.#schema)}: use lowercase letters, digits and _ (at most 40)`);
    if (!IDENTIFIER.test(this.#table) || this.#table.length > 40)
      throw fail(`table ${JSON.stringify(this.#table)}: use lowercase letters, digits and _ (at most 40)`);
    const positive = (name: string, value: number | undefined, fallback: number, min = 0) => {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
        throw fail(`${name} must be a number ≥ ${min}, not ${String(value)}`);
      return value;
    };
    this.#leaseMs = positive('leaseMs', options.leaseMs, 60_000, 1);
    this.#capacity = positive('capacity', options.capacity, 1_000_000, 1);
    this.#dedupWindowMs = positive('dedupWindowMs', options.dedupWindowMs, 7 * 86_400_000);
    this.#deadLetterCapacity = positive('deadLetterCapacity', options.deadLetterCapacity, 100_000);
    this.#deadLetterRetentionMs = positive(
      'deadLetterRetentionMs',
      options.deadLetterRetentionMs,
      30 * 86_400_000,
    );
    this.#pruneIntervalMs = positive('pruneIntervalMs', options.pruneIntervalMs, 60_000);
    this.#wakeDelayMs = positive('wakeDelayMs', options.wakeDelayMs, 1_000);
    this.#batchWindowMs = positive('batchWindowMs', options.batchWindowMs, 1_000);
    this.#retryMs = positive('retryMs', options.retryMs, 10_000);
    const poolSize = positive('poolSize', options.poolSize, 4, 1);
    this.#notify = options.notify ?? true;
    this.#now = options.now;
    this.#create = options.create ?? true;
    this.#t = `"${this.#schema}"."${this.#table}"`;
    this.#channel = `chatgpt_ads_outbox_${(hash32(`${this.#schema}.${this.#table}`) >>> 0).toString(16)}`;
    this.#connectionString = options.connectionString;
    if (options.pool) {
      this.#pool = options.pool;
      this.#ownPool = false;
    } else {
      this.#pool = new pg.Pool({ connectionString: options.connectionString, max: poolSize });
      this.#ownPool = true;
      // An idle connection the server dropped (a restart) is discarded by the pool; the next query
      // opens a new one. Without a listener the error would end the process.
      this.#pool.on('error', () => {});
    }
  }

  /**
   * The table as SQL names it, `"schema"."table"`.
   *
   * @example
   * await pool.query(`SELECT state, count(*) FROM ${outbox.table} GROUP BY state`);
   */
  get table(): string {
    return this.#t;
  }

  #explain(error: unknown, what?: string): Error {
    if (error instanceof PostgresOutboxError) return error;
    const code = String((error as { code?: unknown })?.code ?? '') || 'ERR_OUTBOX';
    let detail = error instanceof Error ? error.message : String(error);
    if (this.#connectionString) {
      try {
        const password = new URL(this.#connectionString).password;
        if (password) detail = detail.replaceAll(decodeURIComponent(password), '***');
      } catch {}
    }
    const hint =
      code === '42501'
        ? ': the database user needs CREATE on the schema (once, for the migration) and SELECT, INSERT, UPDATE, DELETE on the table'
        : code === '53100'
          ? ': the database disk is full; events already stored are kept and sent once it can write again'
          : isConnectionError(error)
            ? ': the database cannot be reached; check the connection string, that the server runs, and the network'
            : '';
    return new PostgresOutboxError(
      `outbox ${this.#t}: ${what ? `${what}: ` : ''}${code}: ${detail}${hint}`,
      code,
      {
        cause: error,
      },
    );
  }

  /** Runs `fn` on the outbox's own connections, retrying a dropped connection for `retryMs`. */
  async #run<T>(fn: () => Promise<T>, what?: string): Promise<T> {
    if (this.#closed) throw new PostgresOutboxError(`outbox ${this.#t}: closed`, 'ERR_OUTBOX_CLOSED');
    await this.migrate();
    const deadline = Date.now() + this.#retryMs;
    let delay = 50;
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (!isConnectionError(error) || this.#closed || Date.now() + delay > deadline)
          throw this.#explain(error, what);
        await sleep(delay);
        delay = Math.min(delay * 2, 1_000);
      }
    }
  }

  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = error;
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection is gone; the server rolled back on its own.
      }
      throw error;
    } finally {
      client.release(isConnectionError(broken) ? (broken as Error) : undefined);
    }
  }

  // The time in SQL: the test clock when one is given, else the database server's (one clock for the fleet).
  #nowSql(index: number): string {
    return `COALESCE($${index}::bigint, (extract(epoch from clock_timestamp()) * 1000)::bigint)`;
  }

  #nowValue(): number | null {
    return this.#now ? Math.floor(this.#now()) : null;
  }

  /**
   * Creates or upgrades the table. Runs by itself before the first operation; call it at startup to
   * fail early. Safe when many instances start at once: they queue on an advisory lock, and each
   * step runs once.
   *
   * @example
   * await outbox.migrate(); // throws a PostgresOutboxError naming the fix when the user lacks a privilege
   */
  migrate(): Promise<void> {
    this.#ready ??= this.#migrate().catch((error) => {
      this.#ready = undefined; // the next call tries again (the database may be starting)
      throw this.#explain(error, 'migration');
    });
    return this.#ready;
  }

  async #migrate(): Promise<void> {
    const deadline = Date.now() + this.#retryMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        return await this.#migrateOnce();
      } catch (error) {
        if (!isConnectionError(error) || this.#closed || Date.now() + delay > deadline) throw error;
        await sleep(delay);
      }
    }
  }

  async #migrateOnce(): Promise<void> {
    const t = this.#t;
    const s = `"${this.#schema}"`;
    const name = this.#table;
    await this.#transaction(async (client) => {
      if (!this.#create) {
        const found = await client.query('SELECT to_regclass($1) AS t', [t]);
        if (found.rows[0]?.t === null)
          throw new PostgresOutboxError(
            `outbox ${t}: no such table in this database; check the connection string, schema and table`,
            'ERR_OUTBOX_MISSING',
          );
      }
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [
        LOCK_CLASS,
        hash32(`${this.#schema}.${name}`),
      ]);
      const encoding = (await client.query('SHOW server_encoding')).rows[0]?.server_encoding;
      if (encoding !== 'UTF8' && encoding !== 'SQL_ASCII')
        throw new PostgresOutboxError(
          `outbox ${t}: the database encoding is ${encoding}; event bodies are UTF-8 and must be stored byte for byte: use a UTF8 database`,
          'ERR_OUTBOX_ENCODING',
        );
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.#schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}."chatgpt_ads_migrations" (
           name text PRIMARY KEY, version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())`,
      );
      const found = await client.query(`SELECT version FROM ${s}."chatgpt_ads_migrations" WHERE name = $1`, [
        name,
      ]);
      const current = (found.rows[0]?.version as number | undefined) ?? 0;
      if (current >= VERSION) return;
      for (let version = current + 1; version <= VERSION; version++) {
        for (const statement of MIGRATIONS[version - 1]!(t, name)) await client.query(statement);
      }
      await client.query(
        `INSERT INTO ${s}."chatgpt_ads_migrations" (name, version) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, migrated_at = now()`,
        [name, VERSION],
      );
    });
  }

  #appendSql(): string {
    const t = this.#t;
    return `WITH stored AS (
        INSERT INTO ${t} AS o (key, id, body, bytes, timestamp_ms, accepted_at, attempts, stored_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, ${this.#nowSql(8)})
        ON CONFLICT (key) DO UPDATE SET id = excluded.id, body = excluded.body, bytes = excluded.bytes,
          timestamp_ms = excluded.timestamp_ms, accepted_at = excluded.accepted_at, attempts = 0, state = 'waiting',
          stored_at = excluded.stored_at,
          lease_owner = NULL, lease_until = NULL, dead_reason = NULL, dead_message = NULL, dead_at = NULL, delivered_at = NULL
        WHERE o.state = 'dead'
        RETURNING 1
      )
      SELECT ${this.#notify ? `pg_notify('${this.#channel}', '')` : '1'} FROM stored`;
  }

  /**
   * Stores one event. With `options.transaction` (a `pg` client inside your `BEGIN`), the row is
   * written in that transaction: rolled back, it never existed; committed, any instance sends it.
   * Core calls this from `track(input, context, { transaction })`.
   *
   * @example
   * await outbox.append(record, { transaction: client }); // client: a pg.PoolClient after BEGIN
   */
  async append(record: OutboxRecord, options?: AppendOptions): Promise<'appended' | 'duplicate' | 'full'> {
    if (NUL.test(record.id) || NUL.test(record.key) || NUL.test(record.body))
      throw new PostgresOutboxError(
        `outbox ${this.#t}: event id ${JSON.stringify(record.id)} contains a NUL character, which PostgreSQL text cannot hold`,
        'ERR_OUTBOX_INVALID_ID',
      );
    const transaction = options?.transaction;
    if (
      transaction !== undefined &&
      (typeof transaction !== 'object' ||
        transaction === null ||
        typeof (transaction as TransactionClient).query !== 'function')
    )
      throw new PostgresOutboxError(
        `outbox ${this.#t}: the transaction must be a pg client (pg.Client or pool.connect()'s client) on which you ran BEGIN`,
        'ERR_OUTBOX_TRANSACTION',
      );
    // In your transaction, everything runs on your client: waiting for a pool connection while
    // holding one could exhaust a small shared pool.
    const tx = transaction as TransactionClient | undefined;
    if (tx) await this.migrate();
    // Counting every time would cost a scan per event; recount every 1,000 appends (others append too).
    if (
      this.#approximateSize < 0 ||
      ++this.#appendsSinceCount >= 1_000 ||
      this.#approximateSize >= this.#capacity
    ) {
      this.#appendsSinceCount = 0;
      if (tx) {
        try {
          this.#approximateSize = (
            (await tx.query(`SELECT count(*)::int AS n FROM ${this.#t} WHERE state IN ('waiting', 'leased')`))
              .rows[0] as { n: number }
          ).n;
        } catch (error) {
          throw this.#explain(error, 'append in your transaction');
        }
      } else this.#approximateSize = await this.size();
    }
    if (this.#approximateSize >= this.#capacity) return 'full';
    const values = [
      record.key,
      record.id,
      record.body,
      record.bytes,
      record.timestampMs,
      record.acceptedAt,
      record.attempts,
      this.#nowValue(),
    ];
    let stored: number;
    if (tx) {
      try {
        const result = await tx.query(this.#appendSql(), values);
        stored = result.rowCount ?? 0;
      } catch (error) {
        throw this.#explain(error, 'append in your transaction');
      }
    } else {
      stored = await this.#run(
        async () => (await this.#pool.query(this.#appendSql(), values)).rowCount ?? 0,
        'append',
      );
    }
    if (stored === 0) return 'duplicate';
    this.#approximateSize++;
    return 'appended';
  }

  /**
   * Leases the oldest waiting events (and those whose lease expired) to this instance, skipping rows
   * another sender is claiming right now.
   *
   * @example
   * const batch = await outbox.claim({ maxEvents: 1000, maxBytes: 1_048_576 });
   */
  async claim(limits: { maxEvents: number; maxBytes: number }): Promise<OutboxRecord[]> {
    const t = this.#t;
    const now = this.#nowSql(1);
    // A partial batch of fresh events waits for the batch window (see batchWindowMs); a full batch,
    // a retry (attempts > 0) or an expired lease goes at once.
    const sql = `WITH locked AS MATERIALIZED (
        SELECT seq, bytes, stored_at, attempts, state FROM ${t}
        WHERE state = 'waiting' OR (state = 'leased' AND lease_until <= ${now})
        ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED
      ), ready AS (
        SELECT count(*) >= $2 OR coalesce(sum(bytes), 0) >= $3
          OR coalesce(bool_or(stored_at <= ${now} - $6 OR attempts > 0 OR state = 'leased'), false) AS go
        FROM locked
      ), chosen AS (
        SELECT seq FROM (
          SELECT seq, row_number() OVER (ORDER BY seq) AS n, sum(bytes) OVER (ORDER BY seq) AS total FROM locked
        ) w WHERE (n = 1 OR total <= $3) AND (SELECT go FROM ready)
      )
      UPDATE ${t} AS o SET state = 'leased', lease_owner = $4, lease_until = ${now} + $5
      FROM chosen WHERE o.seq = chosen.seq
      RETURNING o.seq, o.key, o.id, o.body, o.bytes, o.timestamp_ms, o.accepted_at, o.attempts`;
    const rows = await this.#run(
      async () =>
        (
          await this.#pool.query<Row>(sql, [
            this.#nowValue(),
            Math.max(1, Math.floor(limits.maxEvents)),
            limits.maxBytes,
            this.#owner,
            this.#leaseMs,
            this.#batchWindowMs,
          ])
        ).rows,
      'claim',
    );
    rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    return rows.map(toRecord);
  }

  /**
   * Delivered: the rows keep only their key for `dedupWindowMs` (or are deleted when it is 0). A row
   * whose lease passed to another sender is left to that sender.
   *
   * @example
   * await outbox.ack(batch.map((record) => record.key));
   */
  async ack(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const t = this.#t;
    const keep = this.#dedupWindowMs > 0;
    const sql = keep
      ? `UPDATE ${t} SET state = 'delivered', body = '', delivered_at = ${this.#nowSql(3)}, lease_owner = NULL, lease_until = NULL
         WHERE key = ANY($1::text[]) AND state = 'leased' AND lease_owner = $2`
      : `DELETE FROM ${t} WHERE key = ANY($1::text[]) AND state = 'leased' AND lease_owner = $2`;
    const values = keep ? [keys, this.#owner, this.#nowValue()] : [keys, this.#owner];
    const changed = await this.#run(async () => (await this.#pool.query(sql, values)).rowCount ?? 0, 'ack');
    this.#approximateSize = Math.max(0, this.#approximateSize - changed);
    this.#maybePrune();
  }

  /**
   * Not delivered yet: the rows wait again in their place, with their attempt counts.
   *
   * @example
   * await outbox.release(batch);
   */
  async release(records: readonly OutboxRecord[]): Promise<void> {
    if (records.length === 0) return;
    const sql = `UPDATE ${this.#t} AS o SET state = 'waiting', attempts = r.attempts, lease_owner = NULL, lease_until = NULL
      FROM unnest($1::text[], $2::int[]) AS r(key, attempts)
      WHERE o.key = r.key AND o.state = 'leased' AND o.lease_owner = $3`;
    await this.#run(
      () =>
        this.#pool.query(sql, [
          records.map((record) => record.key),
          records.map((record) => record.attempts),
          this.#owner,
        ]),
      'release',
    );
  }

  /**
   * Gives up on leased rows: they stay as dead letters with the reason, listable and replayable.
   *
   * @example
   * await outbox.deadLetter([{ key, reason: 'invalid', message: 'events[0].data.currency: …', at: Date.now() }]);
   */
  async deadLetter(
    letters: readonly { key: string; reason: DeadLetterReason; message: string; at: number }[],
  ): Promise<void> {
    if (letters.length === 0) return;
    const sql = `UPDATE ${this.#t} AS o SET state = 'dead', dead_reason = d.reason, dead_message = d.message, dead_at = d.at,
        lease_owner = NULL, lease_until = NULL
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS d(key, reason, message, at)
      WHERE o.key = d.key AND o.state = 'leased' AND o.lease_owner = $5`;
    const changed = await this.#run(
      () =>
        this.#transaction(async (client) => {
          const result = await client.query(sql, [
            letters.map((letter) => letter.key),
            letters.map((letter) => letter.reason),
            letters.map((letter) => letter.message),
            letters.map((letter) => Math.floor(letter.at)),
            this.#owner,
          ]);
          await this.#pruneDead(client);
          return result.rowCount ?? 0;
        }),
      'dead letter',
    );
    this.#approximateSize = Math.max(0, this.#approximateSize - changed);
  }

  async #pruneDead(client: pg.PoolClient | pg.Pool): Promise<number> {
    const t = this.#t;
    const byAge = await client.query(
      `DELETE FROM ${t} WHERE state = 'dead' AND dead_at < ${this.#nowSql(1)} - $2`,
      [this.#nowValue(), this.#deadLetterRetentionMs],
    );
    const byCount = await client.query(
      `DELETE FROM ${t} WHERE seq IN (
         SELECT seq FROM ${t} WHERE state = 'dead' ORDER BY dead_at DESC, seq DESC OFFSET $1)`,
      [this.#deadLetterCapacity],
    );
    return (byAge.rowCount ?? 0) + (byCount.rowCount ?? 0);
  }

  #maybePrune(): void {
    const now = Date.now();
    if (this.#pruning || now - this.#lastPrune < this.#pruneIntervalMs) return;
    this.#lastPrune = now;
    this.#pruning = this.prune()
      .catch(() => {
        // Pruning again next time is enough; nothing is lost by a missed pass.
      })
      .finally(() => {
        this.#pruning = undefined;
      });
  }

  /**
   * Deletes what the retention policy no longer keeps: delivered keys older than `dedupWindowMs`,
   * dead letters older than `deadLetterRetentionMs` or beyond `deadLetterCapacity`. Runs by itself
   * (at most once per `pruneIntervalMs` per process, after acks and dead letters); call it to prune now.
   *
   * @example
   * const { delivered, dead } = await outbox.prune();
   */
  async prune(): Promise<{ delivered: number; dead: number }> {
    const t = this.#t;
    let delivered = 0;
    // In slices, so a large backlog of old keys never holds locks for long.
    for (;;) {
      const result = await this.#run(
        () =>
          this.#pool.query(
            `DELETE FROM ${t} WHERE seq IN (
               SELECT seq FROM ${t} WHERE state = 'delivered' AND delivered_at <= ${this.#nowSql(1)} - $2 LIMIT 10000)`,
            [this.#nowValue(), this.#dedupWindowMs],
          ),
        'prune',
      );
      delivered += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < 10_000) break;
    }
    const dead = await this.#run(() => this.#pruneDead(this.#pool), 'prune');
    return { delivered, dead };
  }

  /**
   * Events waiting or leased, fleet-wide.
   *
   * @example
   * await outbox.size(); // 0 once everything is delivered
   */
  async size(): Promise<number> {
    return this.#run(
      async () =>
        (
          await this.#pool.query(
            `SELECT count(*)::int AS n FROM ${this.#t} WHERE state IN ('waiting', 'leased')`,
          )
        ).rows[0].n as number,
      'size',
    );
  }

  /**
   * Dead letters, oldest first, with the reason and the endpoint's message.
   *
   * @example
   * for (const letter of await outbox.deadLetters({ limit: 50 })) console.log(letter.record.id, letter.reason);
   */
  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = await this.#run(
      async () =>
        (
          await this.#pool.query<Row>(
            `SELECT seq, key, id, body, bytes, timestamp_ms, accepted_at, attempts, dead_reason, dead_message, dead_at
             FROM ${this.#t} WHERE state = 'dead' ORDER BY dead_at, seq LIMIT $1`,
            [options.limit ?? null],
          )
        ).rows,
      'list dead letters',
    );
    return rows.map((row) => ({
      record: toRecord(row),
      reason: row.dead_reason!,
      message: row.dead_message ?? '',
      at: Number(row.dead_at ?? 0),
    }));
  }

  /**
   * Puts dead letters (all, or those keys) back in line with attempts reset; returns how many. Any
   * instance of the fleet may send them.
   *
   * @example
   * await outbox.replay(); // after fixing what the endpoint refused
   */
  async replay(keys?: readonly string[]): Promise<number> {
    const sql = `WITH replayed AS (
        UPDATE ${this.#t} SET state = 'waiting', attempts = 0, dead_reason = NULL, dead_message = NULL, dead_at = NULL
        WHERE state = 'dead' AND ($1::text[] IS NULL OR key = ANY($1::text[])) RETURNING 1
      ) SELECT count(*)::int AS n${this.#notify ? `, CASE WHEN count(*) > 0 THEN pg_notify('${this.#channel}', '') END AS woke` : ''} FROM replayed`;
    const count = await this.#run(
      async () => (await this.#pool.query(sql, [keys ? [...keys] : null])).rows[0].n as number,
      'replay',
    );
    this.#approximateSize += count;
    return count;
  }

  /**
   * Deletes dead letters (all, or those keys) for good; returns how many.
   *
   * @example
   * await outbox.purge(['["px","order_created","o1"]']);
   */
  async purge(keys?: readonly string[]): Promise<number> {
    return this.#run(
      async () =>
        (
          await this.#pool.query(
            `DELETE FROM ${this.#t} WHERE state = 'dead' AND ($1::text[] IS NULL OR key = ANY($1::text[]))`,
            [keys ? [...keys] : null],
          )
        ).rowCount ?? 0,
      'purge',
    );
  }

  /**
   * Which of these keys are still waiting or leased anywhere in the fleet; core's `flush()` uses it
   * to stop waiting for events another instance delivered.
   *
   * @example
   * await outbox.pending([key]); // [] once any instance delivered it
   */
  async pending(keys: readonly string[]): Promise<string[]> {
    const still: string[] = [];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const slice = keys.slice(i, i + CHUNK);
      const rows = await this.#run(
        async () =>
          (
            await this.#pool.query<{ key: string }>(
              `SELECT key FROM ${this.#t} WHERE key = ANY($1::text[]) AND state IN ('waiting', 'leased')`,
              [slice],
            )
          ).rows,
        'pending',
      );
      const found = new Set(rows.map((row) => row.key));
      for (const key of slice) if (found.has(key)) still.push(key);
    }
    return still;
  }

  /**
   * Calls `listener` when another instance (or this one) stores or replays an event, through
   * PostgreSQL `LISTEN/NOTIFY`, at most once per `wakeDelayMs`, and once after the listening
   * connection comes back from a drop (notifications may have been missed). Core has no hook to be
   * woken by its outbox, so wire it to `flush()` when the client is idle; returns the unsubscribe
   * function.
   *
   * @example
   * outbox.onWake(() => {
   *   if (conversions.stats().queued === 0) void conversions.flush();
   * });
   */
  onWake(listener: () => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('onWake needs a function');
    this.#listeners.add(listener);
    if (!this.#listener && !this.#listening) this.#listen(0);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) void this.#unlisten();
    };
  }

  #wake(): void {
    if (this.#wakeTimer || this.#closed) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      for (const listener of this.#listeners) {
        try {
          listener();
        } catch {
          // A listener's failure is its own; others still hear the wake-up.
        }
      }
    }, this.#wakeDelayMs);
    this.#wakeTimer.unref?.();
  }

  #listen(attempt: number): void {
    if (this.#closed || this.#listeners.size === 0) return;
    this.#listening = (async () => {
      let client: pg.Client | pg.PoolClient | undefined;
      let release: () => Promise<void>;
      try {
        await this.migrate();
        // A connection of its own, never one of the pool's: the client listens for as long as it
        // runs, and a small pool (one connection held by the app's transaction) must not run dry.
        const own = new pg.Client(
          this.#connectionString
            ? { connectionString: this.#connectionString }
            : (this.#pool as pg.Pool & { options: pg.ClientConfig }).options,
        );
        client = own;
        own.on('error', () => {});
        await own.connect();
        release = () => own.end();
        client.on('notification', () => this.#wake());
        client.on('end', () => this.#lost());
        await client.query(`LISTEN "${this.#channel}"`);
        this.#listener = { client, release };
        if (this.#closed || this.#listeners.size === 0) return void (await this.#unlisten());
        if (attempt > 0) this.#wake();
      } catch {
        try {
          if (client && 'release' in client) client.release(true);
          else await (client as pg.Client | undefined)?.end();
        } catch {}
        this.#listener = undefined;
        this.#retryListen(attempt + 1);
      } finally {
        this.#listening = undefined;
      }
    })();
  }

  #lost(): void {
    if (!this.#listener) return;
    this.#listener = undefined;
    this.#retryListen(1);
  }

  #retryListen(attempt: number): void {
    if (this.#closed || this.#listeners.size === 0 || this.#reconnectTimer) return;
    this.#reconnectTimer = setTimeout(
      () => {
        this.#reconnectTimer = undefined;
        this.#listen(attempt);
      },
      Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)),
    );
    this.#reconnectTimer.unref?.();
  }

  async #unlisten(): Promise<void> {
    const listener = this.#listener;
    this.#listener = undefined;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    if (listener) {
      listener.client.removeAllListeners('end');
      await listener.release().catch(() => {});
    }
  }

  /**
   * Stops listening and closes the outbox's own pool (a pool you passed stays open). Call it after
   * the client's `shutdown()`.
   *
   * @example
   * await conversions.shutdown();
   * await outbox.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    await this.#listening?.catch(() => {});
    await this.#unlisten();
    await this.#pruning;
    await this.#ready?.catch(() => {});
    if (this.#ownPool) await this.#pool.end();
  }
}

// Each step of the schema, in order; the version is the step count. Steps only ever add.
const MIGRATIONS: ReadonlyArray<(t: string, name: string) => string[]> = [
  (t, name) => [
    `CREATE TABLE IF NOT EXISTS ${t} (
       seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       key text NOT NULL,
       id text NOT NULL,
       body text NOT NULL,
       bytes integer NOT NULL,
       timestamp_ms bigint NOT NULL,
       accepted_at bigint NOT NULL,
       stored_at bigint NOT NULL,
       attempts integer NOT NULL DEFAULT 0,
       state text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'leased', 'delivered', 'dead')),
       lease_owner text,
       lease_until bigint,
       delivered_at bigint,
       dead_reason text,
       dead_message text,
       dead_at bigint,
       CONSTRAINT "${name}_key" UNIQUE (key)
     )`,
    `CREATE INDEX IF NOT EXISTS "${name}_queue" ON ${t} (seq) WHERE state IN ('waiting', 'leased')`,
    `CREATE INDEX IF NOT EXISTS "${name}_delivered" ON ${t} (delivered_at) WHERE state = 'delivered'`,
    `CREATE INDEX IF NOT EXISTS "${name}_dead" ON ${t} (dead_at, seq) WHERE state = 'dead'`,
  ],
];
