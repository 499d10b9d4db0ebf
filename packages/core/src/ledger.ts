import type { HaltInfo } from './config.js';
import type { DeadLetterReason, OutboxRecord } from './outbox.js';

/**
 * Counters since the client was created. Every accepted (or replayed) event is exactly one of
 * delivered, dead-lettered or queued (waiting or in flight): `accepted + replayed = delivered +
 * deadLettered + queued`, plus any backlog a durable outbox held at start. `deduplicated` counts
 * tracks merged into an identical queued event.
 *
 * @example
 * const { delivered, queued, deadLetteredByReason } = conversions.stats();
 */
export interface ConversionStats {
  accepted: number;
  queued: number;
  delivered: number;
  deadLettered: number;
  deadLetteredByReason: Record<DeadLetterReason, number>;
  /** Event sends that failed transiently and were put back for a retry. */
  retried: number;
  skipped: number;
  skippedBySource: Record<string, number>;
  refused: number;
  deduplicated: number;
  /** Dead letters put back in the queue by `replay`. */
  replayed: number;
  /** Accepted here, then delivered or dead-lettered by another process sharing the outbox. */
  handledElsewhere: number;
  requests: number;
  halted?: HaltInfo;
}

type Settled = Pick<OutboxRecord, 'key' | 'bytes'>;

/**
 * The client's accounts: what was accepted, where each event stands, and who waits for which
 * events to settle. It does no I/O; the intake and the delivery loop tell it what happened.
 *
 * @example
 * const ledger = new Ledger();
 * ledger.accept(record);
 * ledger.stats().queued; // 1
 */
export class Ledger {
  readonly #counters: ConversionStats = {
    accepted: 0,
    queued: 0,
    delivered: 0,
    deadLettered: 0,
    deadLetteredByReason: { invalid: 0, stale: 0, too_large: 0, max_attempts: 0 },
    retried: 0,
    skipped: 0,
    skippedBySource: {},
    refused: 0,
    deduplicated: 0,
    replayed: 0,
    handledElsewhere: 0,
    requests: 0,
  };
  #queuedBytes = 0;
  // Keys (and sizes) this process accepted that are not delivered or dead-lettered yet.
  readonly #unsettled = new Map<string, number>();
  #waiters: Array<{ keys: Set<string>; resolve: () => void }> = [];
  // Events a durable outbox held at start, counted as queued until sent here or seen gone.
  #backlog = 0;
  // Claimed and in flight; what still waits for a batch is queued minus leased.
  #leasedEvents = 0;
  #leasedBytes = 0;
  #halted: HaltInfo | undefined;

  /** An event this client stored in the outbox. */
  accept(record: Settled): void {
    this.#counters.accepted++;
    this.#counters.queued++;
    this.#queuedBytes += record.bytes;
    this.#unsettled.set(record.key, record.bytes);
  }

  /** `count` of these dead letters went back in the queue: this process's again, so flush() waits for them. */
  replay(records: readonly Settled[], count: number): void {
    for (const record of records) this.#unsettled.set(record.key, record.bytes);
    this.#counters.queued += count;
    this.#counters.replayed += count;
  }

  /** A durable outbox held `size` events at start. */
  adoptBacklog(size: number): void {
    this.#backlog = size;
    this.#counters.queued += size;
  }

  count(name: 'deduplicated' | 'refused' | 'requests'): void {
    this.#counters[name]++;
  }

  skip(source: string): void {
    this.#counters.skipped++;
    this.#counters.skippedBySource[source] = (this.#counters.skippedBySource[source] ?? 0) + 1;
  }

  retried(count: number): void {
    this.#counters.retried += count;
  }

  lease(events: number, bytes: number): void {
    this.#leasedEvents += events;
    this.#leasedBytes += bytes;
  }

  /** Events queued and not claimed by a batch in flight, and their bytes. */
  waiting(): { events: number; bytes: number } {
    return {
      events: this.#counters.queued - this.#leasedEvents,
      bytes: this.#queuedBytes - this.#leasedBytes,
    };
  }

  delivered(records: readonly Settled[]): void {
    this.#counters.delivered += records.length;
    this.#settle(records);
  }

  deadLettered(records: readonly Settled[], reason: DeadLetterReason): void {
    this.#counters.deadLettered += records.length;
    this.#counters.deadLetteredByReason[reason] += records.length;
    this.#settle(records);
  }

  /**
   * Accepted here, then settled by another process sharing the outbox: of the keys `asked` about,
   * those the outbox no longer lists as pending (keys accepted since the question stay unsettled).
   */
  settledElsewhere(asked: readonly string[], stillPending: readonly string[]): void {
    const still = new Set(stillPending);
    const gone: Settled[] = [];
    for (const key of asked) {
      const bytes = this.#unsettled.get(key);
      if (bytes !== undefined && !still.has(key)) gone.push({ key, bytes });
    }
    if (gone.length === 0) return;
    this.#counters.handledElsewhere += gone.length;
    this.#settle(gone);
  }

  /** The outbox now holds `size` events: what of the start-up backlog it no longer holds, others sent. */
  reconcileBacklog(size: number): void {
    const still = Math.min(this.#backlog, Math.max(0, size - this.#unsettled.size));
    const gone = this.#backlog - still;
    if (gone === 0) return;
    this.#backlog = still;
    this.#counters.queued = Math.max(0, this.#counters.queued - gone);
    this.#counters.handledElsewhere += gone;
  }

  get backlog(): number {
    return this.#backlog;
  }

  unsettledKeys(): string[] {
    return [...this.#unsettled.keys()];
  }

  /** Resolves when every event unsettled now has settled (or {@link releaseWaiters} is called). */
  settledNow(): { done: Promise<void>; empty: boolean } {
    const keys = new Set(this.#unsettled.keys());
    if (keys.size === 0) return { done: Promise.resolve(), empty: true };
    return { done: new Promise((resolve) => this.#waiters.push({ keys, resolve })), empty: false };
  }

  releaseWaiters(): void {
    for (const waiter of this.#waiters) waiter.resolve();
    this.#waiters = [];
  }

  get halted(): HaltInfo | undefined {
    return this.#halted;
  }

  set halted(info: HaltInfo | undefined) {
    this.#halted = info;
  }

  stats(): ConversionStats {
    return {
      ...this.#counters,
      deadLetteredByReason: { ...this.#counters.deadLetteredByReason },
      skippedBySource: { ...this.#counters.skippedBySource },
      ...(this.#halted ? { halted: { ...this.#halted } } : {}),
    };
  }

  #settle(records: readonly Settled[]): void {
    for (const record of records) {
      // A shared outbox hands this process events others accepted: never count below zero.
      this.#counters.queued = Math.max(0, this.#counters.queued - 1);
      this.#queuedBytes = Math.max(0, this.#queuedBytes - record.bytes);
      if (!this.#unsettled.delete(record.key)) this.#backlog = Math.max(0, this.#backlog - 1);
    }
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => {
      for (const record of records) waiter.keys.delete(record.key);
      if (waiter.keys.size > 0) return true;
      waiter.resolve();
      return false;
    });
  }
}
