/**
 * One accepted event waiting for delivery. `body` is the event's JSON, frozen at accept time so
 * every retry sends identical bytes.
 *
 * @example
 * const record: OutboxRecord = { key: '["px","order_created","o1"]', id: 'o1', body: '{"id":"o1",…}',
 *   bytes: 120, timestampMs: Date.now(), acceptedAt: Date.now(), attempts: 0 };
 */
export interface OutboxRecord {
  /** Dedup key: pixel id + event name (or custom name) + id. */
  key: string;
  id: string;
  body: string;
  /** UTF-8 size of `body`. */
  bytes: number;
  timestampMs: number;
  acceptedAt: number;
  /** Delivery attempts so far. */
  attempts: number;
}

/**
 * Why an event was given up on.
 *
 * @example
 * const reason: DeadLetterReason = 'stale';
 */
export type DeadLetterReason = 'invalid' | 'stale' | 'too_large' | 'max_attempts';

/**
 * An event that will not be sent again unless replayed, with the reason and the endpoint's message.
 *
 * @example
 * const letter: DeadLetter = { record, reason: 'invalid', message: 'events[0].data.currency: …', at: Date.now() };
 */
export interface DeadLetter {
  record: OutboxRecord;
  reason: DeadLetterReason;
  message: string;
  at: number;
}

/**
 * Where accepted events wait. The client appends, claims batches (which leases them), and then
 * acks, releases (to retry) or dead-letters every claimed record. Implement it to make delivery
 * durable (e.g. `@chatgpt-ads/outbox-sqlite`).
 *
 * @example
 * const conversions = createConversions({ pixelId, apiKey, outbox: new MemoryOutbox({ capacity: 50_000 }) });
 */
export interface Outbox {
  /**
   * Stores a record. `duplicate`: a record with this key is already waiting or leased. `full`: at
   * capacity. `options.transaction` is the app's own handle passed to `track()` (e.g. a `pg` client
   * inside a transaction); an outbox that supports it stores the record in that transaction, one that
   * does not must refuse it by throwing rather than store the record outside it.
   */
  append(record: OutboxRecord, options?: AppendOptions): Promise<'appended' | 'duplicate' | 'full'>;
  /** Leases up to `maxEvents` records whose bodies add up to at most `maxBytes`, oldest first. */
  claim(limits: { maxEvents: number; maxBytes: number }): Promise<OutboxRecord[]>;
  /** Delivered: forget these leased records. */
  ack(keys: readonly string[]): Promise<void>;
  /** Not delivered yet: put leased records back, first in line, with their updated attempt counts. */
  release(records: readonly OutboxRecord[]): Promise<void>;
  /** Give up on leased records. */
  deadLetter(
    letters: readonly { key: string; reason: DeadLetterReason; message: string; at: number }[],
  ): Promise<void>;
  /** Records waiting or leased. */
  size(): Promise<number>;
  /** Dead letters, oldest first. */
  deadLetters(options?: { limit?: number }): Promise<DeadLetter[]>;
  /** Moves dead letters (all, or those keys) back to the queue with attempts reset; returns how many. */
  replay(keys?: readonly string[]): Promise<number>;
  /**
   * For outboxes several processes share: which of these keys are still waiting or leased. Another
   * process may have delivered the rest; `flush()` uses it so it does not wait for them forever.
   */
  pending?(keys: readonly string[]): Promise<string[]>;
  /**
   * For outboxes several processes share: calls `listener` when another process stored events, so
   * an idle client sends them without polling (e.g. PostgreSQL's LISTEN/NOTIFY). The client
   * subscribes when it starts and unsubscribes on shutdown; returns the unsubscribe function.
   */
  onWake?(listener: () => void): () => void;
}

/**
 * How {@link Outbox.append} stores one record.
 *
 * @example
 * await outbox.append(record, { transaction: pgClient });
 */
export interface AppendOptions {
  /** The app's transaction to store the record in; opaque to core. */
  transaction?: unknown;
}

/**
 * Options of {@link MemoryOutbox}.
 *
 * @example
 * new MemoryOutbox({ capacity: 100_000, deadLetterCapacity: 10_000 });
 */
export interface MemoryOutboxOptions {
  /** Most records waiting or leased; `append` answers `full` beyond it. Default 100,000. */
  capacity?: number;
  /** Most dead letters kept for listing and replay; the oldest are forgotten beyond it. Default 10,000. */
  deadLetterCapacity?: number;
}

const TRANSACTION_UNSUPPORTED =
  'this outbox cannot store an event inside your transaction; use an outbox that can (e.g. @chatgpt-ads/outbox-postgres)';

/**
 * The default outbox: in memory, bounded, lost with the process (use a durable outbox where a
 * deploy or crash must not lose queued events).
 *
 * @example
 * const outbox = new MemoryOutbox({ capacity: 10_000 });
 * await outbox.size(); // 0
 */
export class MemoryOutbox implements Outbox {
  readonly #capacity: number;
  readonly #deadLetterCapacity: number;
  #waiting = new Map<string, OutboxRecord>();
  readonly #leased = new Map<string, OutboxRecord>();
  readonly #dead = new Map<string, DeadLetter>();

  constructor(options: MemoryOutboxOptions = {}) {
    this.#capacity = options.capacity ?? 100_000;
    this.#deadLetterCapacity = options.deadLetterCapacity ?? 10_000;
  }

  async append(record: OutboxRecord, options?: AppendOptions): Promise<'appended' | 'duplicate' | 'full'> {
    if (options?.transaction !== undefined) throw new TypeError(TRANSACTION_UNSUPPORTED);
    if (this.#waiting.has(record.key) || this.#leased.has(record.key)) return 'duplicate';
    if (this.#waiting.size + this.#leased.size >= this.#capacity) return 'full';
    this.#waiting.set(record.key, record);
    return 'appended';
  }

  async claim(limits: { maxEvents: number; maxBytes: number }): Promise<OutboxRecord[]> {
    const batch: OutboxRecord[] = [];
    let bytes = 0;
    for (const [key, record] of this.#waiting) {
      if (batch.length >= limits.maxEvents) break;
      // Always take at least one record so an oversized one can be reported, not stuck forever.
      if (batch.length > 0 && bytes + record.bytes > limits.maxBytes) break;
      batch.push(record);
      bytes += record.bytes;
      this.#waiting.delete(key);
      this.#leased.set(key, record);
    }
    return batch;
  }

  async ack(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#leased.delete(key);
  }

  async release(records: readonly OutboxRecord[]): Promise<void> {
    const front = new Map<string, OutboxRecord>();
    for (const record of records) {
      if (this.#leased.delete(record.key)) front.set(record.key, record);
    }
    for (const [key, record] of this.#waiting) front.set(key, record);
    this.#waiting = front;
  }

  async deadLetter(
    letters: readonly { key: string; reason: DeadLetterReason; message: string; at: number }[],
  ): Promise<void> {
    for (const letter of letters) {
      const record = this.#leased.get(letter.key);
      if (!record) continue;
      this.#leased.delete(letter.key);
      this.#dead.delete(letter.key);
      this.#dead.set(letter.key, { record, reason: letter.reason, message: letter.message, at: letter.at });
      if (this.#dead.size > this.#deadLetterCapacity) {
        const oldest = this.#dead.keys().next().value;
        if (oldest !== undefined) this.#dead.delete(oldest);
      }
    }
  }

  async size(): Promise<number> {
    return this.#waiting.size + this.#leased.size;
  }

  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return [...this.#dead.values()].slice(0, options.limit ?? Number.POSITIVE_INFINITY);
  }

  async replay(keys?: readonly string[]): Promise<number> {
    let count = 0;
    for (const key of keys ?? [...this.#dead.keys()]) {
      const letter = this.#dead.get(key);
      if (!letter || this.#waiting.has(key) || this.#leased.has(key)) continue;
      this.#dead.delete(key);
      this.#waiting.set(key, { ...letter.record, attempts: 0 });
      count++;
    }
    return count;
  }
}
