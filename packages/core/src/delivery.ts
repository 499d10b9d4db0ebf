import type { ResolvedOptions } from './config.js';
import type { Ledger } from './ledger.js';
import type { DeadLetterReason, OutboxRecord } from './outbox.js';
import type { Reporter } from './report.js';
import { backoffMs, decide, isStale, type RetryDecision } from './retry-policy.js';
import { postEvents, type SendOutcome } from './transport.js';

/**
 * The delivery loop: claims batches from the outbox, sends them, and acts on the retry policy's
 * decision for each answer. It owns the timers, the pause after a transient failure, the halt, and
 * the sends in flight; the ledger is told every outcome.
 *
 * @example
 * const loop = new DeliveryLoop(settings, ledger, report);
 * loop.queued();       // after the intake appended an event
 * await loop.close();  // claims nothing more; waits for sends in flight
 */
export class DeliveryLoop {
  readonly #settings: ResolvedOptions;
  readonly #ledger: Ledger;
  readonly #report: Reporter;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDue = 0;
  #pausedUntil = 0;
  #failures = 0;
  #inFlight = 0;
  #drainRequested = false;
  #pumping = false;
  #pumpAgain = false;
  #closed = false;
  // Sends in flight: close() waits for them, so a process that exits right after shutdown() never
  // leaves a batch half-sent for another process to send again.
  readonly #deliveries = new Set<Promise<void>>();
  // The claim loop running now, if any: close() waits for it, so no batch is claimed unseen.
  #claiming: Promise<void> = Promise.resolve();

  constructor(settings: ResolvedOptions, ledger: Ledger, report: Reporter) {
    this.#settings = settings;
    this.#ledger = ledger;
    this.#report = report;
  }

  /** Batches in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Sends what is queued as soon as the pause (if any) allows. */
  drain(): void {
    this.#drainRequested = true;
    void this.#pump();
  }

  /**
   * An event was queued. A full batch goes at once; a partial one waits for `flushIntervalMs` from
   * its first event. The interval restarts after a full batch leaves, so a steady stream is not cut
   * into extra requests.
   */
  queued(): void {
    const waiting = this.#ledger.waiting();
    const { maxEvents, maxBytes, flushIntervalMs } = this.#settings.batch;
    if (waiting.events < maxEvents && waiting.bytes < maxBytes) {
      this.#arm(flushIntervalMs);
      return;
    }
    if (this.#timer !== undefined && !(this.#pausedUntil > this.#settings.clock.now())) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.drain();
  }

  /** Sending resumes after a halt. */
  resume(): void {
    if (!this.#ledger.halted) return;
    this.#ledger.halted = undefined;
    this.drain();
  }

  /** Claims nothing more and stops the timers; resolves once every send in flight is answered and acted on. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    // A claim answered after this point is put back, never sent; every send already started is
    // waited for, including one that started while an earlier one was being waited for.
    await this.#claiming;
    while (this.#deliveries.size > 0) await Promise.allSettled([...this.#deliveries]);
  }

  #arm(delayMs: number): void {
    if (this.#closed || this.#ledger.halted) return;
    const due = this.#settings.clock.now() + delayMs;
    if (this.#timer !== undefined && this.#timerDue <= due) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.drain();
    }, delayMs);
    // A pending batch must never keep the process alive on its own.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #pump(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#pumping) {
      this.#pumpAgain = true;
      return Promise.resolve();
    }
    this.#pumping = true;
    this.#claiming = this.#pumpLoop();
    return this.#claiming;
  }

  async #pumpLoop(): Promise<void> {
    try {
      do {
        this.#pumpAgain = false;
        await this.#claimWhileAllowed();
      } while (this.#pumpAgain);
    } catch (error) {
      this.#report.error(`outbox claim failed: ${String(error)}`);
      this.#arm(this.#backoff());
    } finally {
      this.#pumping = false;
    }
    if (!this.#drainRequested && this.#ledger.waiting().events > 0)
      this.#arm(this.#settings.batch.flushIntervalMs);
  }

  async #claimWhileAllowed(): Promise<void> {
    const { clock, outbox, batch } = this.#settings;
    while (
      this.#drainRequested &&
      !this.#ledger.halted &&
      !this.#closed &&
      this.#inFlight < batch.concurrency
    ) {
      const wait = this.#pausedUntil - clock.now();
      if (wait > 0) return this.#arm(wait);
      const records = await outbox.claim({ maxEvents: batch.maxEvents, maxBytes: batch.maxBytes });
      if (this.#closed) {
        // Closed while the claim was out: the batch goes back at once, for whichever instance claims next.
        if (records.length > 0) await outbox.release(records);
        return;
      }
      if (records.length === 0) {
        this.#drainRequested = false;
        return;
      }
      // Less than a full batch means the queue is drained for now. On a shared outbox, claiming
      // again at once would take other processes' fresh events a few at a time; what arrives
      // later is sent by its own batch timer, or by the outbox's wake-up.
      if (records.length < batch.maxEvents && !this.#fills(records)) this.#drainRequested = false;
      this.#startDelivery(records);
    }
  }

  // Whether the byte budget rather than the queue ended the batch: one more record as large as
  // the largest in it would not have fitted.
  #fills(records: readonly OutboxRecord[]): boolean {
    let bytes = 0;
    let largest = 0;
    for (const record of records) {
      bytes += record.bytes;
      if (record.bytes > largest) largest = record.bytes;
    }
    return bytes + largest > this.#settings.batch.maxBytes;
  }

  #startDelivery(records: OutboxRecord[]): void {
    this.#inFlight++;
    const bytes = records.reduce((sum, record) => sum + record.bytes, 0);
    this.#ledger.lease(records.length, bytes);
    const delivery: Promise<void> = this.#deliver(records)
      .catch((error) => this.#report.error(`delivery failed unexpectedly: ${String(error)}`))
      .finally(() => {
        this.#deliveries.delete(delivery);
        this.#inFlight--;
        this.#ledger.lease(-records.length, -bytes);
        if (this.#drainRequested) void this.#pump();
        else if (this.#ledger.waiting().events > 0) this.#arm(this.#settings.batch.flushIntervalMs);
      });
    this.#deliveries.add(delivery);
  }

  async #deliver(records: OutboxRecord[]): Promise<void> {
    const now = this.#settings.clock.now();
    const stale = records.filter((record) => isStale(record, now));
    if (stale.length > 0)
      await this.#deadLetter(
        stale,
        'stale',
        'older than 7 days (less a 5-minute margin) at send time; never sent',
      );
    const fresh = stale.length > 0 ? records.filter((record) => !isStale(record, now)) : records;
    if (fresh.length > 0) await this.#send(fresh, true);
  }

  /**
   * Sends one group and acts on the policy's decision. With `isolate` false a rejected group stays
   * leased and the caller decides (the search in {@link #bisect}).
   */
  async #send(records: OutboxRecord[], isolate: boolean): Promise<SendOutcome> {
    const { outbox, clock, retry } = this.#settings;
    if (this.#ledger.halted || this.#pausedUntil > clock.now()) {
      await outbox.release(records);
      return { kind: 'retry', message: 'deferred' };
    }
    this.#ledger.count('requests');
    for (const record of records) record.attempts++;
    const outcome = await this.#post(records);
    const jitter = outcome.kind === 'retry' ? this.#settings.random() : 0;
    const decision = decide(outcome, records, retry, { failures: this.#failures, jitter, isolate });
    await this.#act(decision, records, outcome);
    return outcome;
  }

  #post(records: readonly OutboxRecord[]): Promise<SendOutcome> {
    const { fetch, endpoint, pixelId, apiKey, envelopeStart, retry, clock } = this.#settings;
    return postEvents({
      fetch,
      endpoint,
      pixelId,
      apiKey,
      body: `${envelopeStart}${records.map((record) => record.body).join(',')}]}`,
      timeoutMs: retry.timeoutMs,
      now: () => clock.now(),
    });
  }

  async #act(decision: RetryDecision, records: OutboxRecord[], outcome: SendOutcome): Promise<void> {
    switch (decision.action) {
      case 'ack': {
        const status = outcome.kind === 'delivered' ? outcome.status : 200;
        this.#failures = 0;
        await this.#settings.outbox.ack(records.map((record) => record.key));
        this.#ledger.delivered(records);
        this.#report.hook('delivered', { ids: records.map((record) => record.id), status });
        this.#report.debug(`delivered ${records.length} event(s) (HTTP ${status})`);
        return;
      }
      case 'split':
        for (const group of decision.groups) await this.#send(group, true);
        return;
      case 'bisect':
        return this.#bisect(records, decision.message);
      case 'deadLetter':
        return this.#deadLetter(records, decision.reason, decision.message);
      case 'pause':
        return this.#pause(decision);
      case 'halt':
        return this.#halt(records, decision);
      case 'report':
        return;
    }
  }

  async #pause(decision: Extract<RetryDecision, { action: 'pause' }>): Promise<void> {
    if (decision.exhausted.length > 0)
      await this.#deadLetter(decision.exhausted, 'max_attempts', decision.exhaustedMessage);
    const { retry: records, delayMs, message } = decision;
    this.#failures++;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#settings.clock.now() + delayMs);
    this.#ledger.retried(records.length);
    await this.#settings.outbox.release(records);
    const status = decision.status !== undefined ? { status: decision.status } : {};
    this.#report.hook('retried', { ids: records.map((record) => record.id), delayMs, message, ...status });
    this.#report.debug(`retrying ${records.length} event(s) in ${delayMs} ms: ${message}`);
    this.#drainRequested = true;
    this.#arm(delayMs);
  }

  async #halt(
    records: readonly OutboxRecord[],
    decision: { status: number; message: string },
  ): Promise<void> {
    await this.#settings.outbox.release(records);
    if (this.#ledger.halted) return;
    this.#ledger.halted = { status: decision.status, message: decision.message };
    this.#report.error(
      `ChatGPT Ads refused the configuration (HTTP ${decision.status}: ${decision.message}). ` +
        `Sending is halted with ${this.#ledger.stats().queued} event(s) kept queued; check the pixel id and API key, then call resume().`,
    );
    this.#report.hook('halted', { status: decision.status, message: decision.message });
    this.#ledger.releaseWaiters();
  }

  async #deadLetter(
    records: readonly OutboxRecord[],
    reason: DeadLetterReason,
    message: string,
  ): Promise<void> {
    const at = this.#settings.clock.now();
    await this.#settings.outbox.deadLetter(
      records.map((record) => ({ key: record.key, reason, message, at })),
    );
    this.#ledger.deadLettered(records, reason);
    for (const record of records)
      this.#report.hook('deadLettered', { id: record.id, key: record.key, reason, message });
    this.#report.warn(`dead-lettered ${records.length} event(s) as ${reason}: ${message}`);
  }

  /**
   * Finds the first invalid event of a rejected group by halving: a half that goes through is
   * delivered, a half that fails is searched further, and the halves set aside on the way are sent
   * together afterwards (and searched again if they fail). k bad events among n cost about
   * k·(log2 n + 1) requests.
   */
  async #bisect(records: OutboxRecord[], message: string): Promise<void> {
    let suspects = records;
    let reason = message;
    const setAside: OutboxRecord[] = [];
    while (suspects.length > 1) {
      const middle = Math.ceil(suspects.length / 2);
      const left = suspects.slice(0, middle);
      const right = suspects.slice(middle);
      const outcome = await this.#send(left, false);
      if (outcome.kind === 'delivered') suspects = right;
      else if (outcome.kind === 'invalid') {
        setAside.push(...right);
        suspects = left;
        reason = outcome.message;
      } else {
        // Retried, too large or halted: `left` is handled; the rest goes back through #send().
        setAside.push(...right);
        suspects = [];
      }
    }
    if (suspects.length === 1) await this.#deadLetter(suspects, 'invalid', reason);
    if (setAside.length > 0) await this.#send(setAside, true);
  }

  #backoff(): number {
    return backoffMs(this.#settings.retry, this.#failures, this.#settings.random());
  }
}
