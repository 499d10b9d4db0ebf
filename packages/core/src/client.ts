// The client: wiring over its named parts. Options are resolved once (config.ts); the intake
// takes events in (intake.ts); the ledger keeps the accounts (ledger.ts); the delivery loop sends
// and acts on the retry policy (delivery.ts, retry-policy.ts). What is left here is what joins
// them: flush, shutdown, replay, and the per-request view adapters hand to the app.
import type { ConversionInput } from './build.js';
import { type ConversionsOptions, resolveOptions } from './config.js';
import { DeliveryLoop } from './delivery.js';
import { Intake, type TrackOptions, type TrackResult } from './intake.js';
import { type ConversionStats, Ledger } from './ledger.js';
import type { DeadLetter, Outbox } from './outbox.js';
import type { PixelOptions } from './pixel.js';
import { createReporter, type Reporter } from './report.js';
import type { IncomingRequest, RequestContext } from './request.js';
import { type ForRequestOptions, type RequestConversions, requestViews } from './views.js';

/**
 * The client returned by {@link createConversions}.
 *
 * @example
 * const result = await conversions.track({ type: 'lead_created', id: 'lead_42' }, context);
 */
export interface Conversions {
  readonly pixelId: string;
  /**
   * Validates, hashes and queues one conversion; never waits for the network, never throws on bad input.
   * `options.transaction` stores the event inside the app's own transaction (an outbox that supports
   * it, e.g. `@chatgpt-ads/outbox-postgres`, stores it there: rolled back, nothing is sent).
   */
  track(input: ConversionInput, context?: RequestContext, options?: TrackOptions): Promise<TrackResult>;
  /** Resolves when every event accepted so far is delivered or dead-lettered (or sending halted). */
  flush(): Promise<ConversionStats>;
  /** Stops accepting, flushes within `timeoutMs` (default 10 s), then stops all timers. */
  shutdown(options?: { timeoutMs?: number }): Promise<ConversionStats>;
  stats(): ConversionStats;
  /** Resumes sending after a halt (e.g. once the key is fixed). */
  resume(): void;
  /** Renders the pixel snippet for this client's pixel id. */
  pixel(options: Omit<PixelOptions, 'pixelId'>): string;
  /**
   * Everything an adapter attaches to one request: its context, consent, cookie writes, an event id,
   * and `track`/`pixel` bound to them so that server event and pixel share the id.
   */
  forRequest(incoming: IncomingRequest, options?: ForRequestOptions): RequestConversions;
  deadLetters(options?: { limit?: number }): Promise<DeadLetter[]>;
  /** Puts dead letters (all, or those keys) back in the queue; returns how many. */
  replay(keys?: readonly string[]): Promise<number>;
}

/**
 * Creates a conversions client: consent gate, event building, a bounded outbox, batching
 * (≤1,000 events, byte budget, interval), and delivery with failure isolation and retries.
 *
 * @example
 * import { createConversions } from '@chatgpt-ads/core';
 *
 * const conversions = createConversions({
 *   pixelId: env.CHATGPT_ADS_PIXEL_ID,
 *   apiKey: env.CHATGPT_ADS_API_KEY, // from your secrets, never from client code
 * });
 * await conversions.track(
 *   { type: 'order_created', id: 'order_1001', data: { amount: 12999, currency: 'USD' }, user: { email: 'alex@example.com' } },
 *   { consent: 'granted', oppref: 'gAAAA123', sourceUrl: 'https://shop.example/checkout', ip: '203.0.113.7' },
 * );
 * await conversions.shutdown();
 */
export function createConversions(options: ConversionsOptions): Conversions {
  const settings = resolveOptions(options);
  const { pixelId, endpoint, outbox } = settings;
  const ledger = new Ledger();
  const report = createReporter(settings);
  const loop = new DeliveryLoop(settings, ledger, report);
  const intake = new Intake(settings, ledger, report, () => loop.queued());
  let closed = false;

  // A shared outbox says when another process stored events: send them without polling.
  const stopWaking = outbox.onWake?.(() => loop.drain());

  // A durable outbox may hold events from an earlier process: send them too, and let flush() wait for them.
  const startup = outbox.size().then(
    (size) => {
      if (size > 0 && !closed) {
        ledger.adoptBacklog(size);
        loop.drain();
      }
    },
    (error) => report.error(`outbox unavailable: ${String(error)}`),
  );

  async function flush(): Promise<ConversionStats> {
    await startup;
    if (ledger.halted) return ledger.stats();
    const mine = ledger.settledNow();
    let settled = mine.empty;
    const done = mine.done.then(() => {
      settled = true;
    });
    loop.drain();
    if (!outbox.pending && ledger.backlog === 0) {
      await done;
      return ledger.stats();
    }
    // A shared or pre-filled outbox: other processes may deliver events, or hold leases that must
    // expire first, so look again now and then.
    while ((!settled || ledger.backlog > 0) && !ledger.halted && !closed) {
      let pause: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<void>((resolve) => {
        pause = setTimeout(resolve, 250);
      });
      await (settled ? tick : Promise.race([done, tick]));
      clearTimeout(pause);
      if (closed) break;
      if (loop.inFlight > 0) continue;
      await reconcile(!settled);
      loop.drain();
    }
    return ledger.stats();
  }

  const reconcile = (mine: boolean) => reconcileShared(outbox, ledger, report, mine);

  async function shutdown(shutdownOptions: { timeoutMs?: number } = {}): Promise<ConversionStats> {
    intake.close();
    let deadline: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        flush(),
        new Promise<void>((resolve) => {
          deadline = setTimeout(resolve, shutdownOptions.timeoutMs ?? 10_000);
        }),
      ]);
    } finally {
      closed = true;
      if (deadline !== undefined) clearTimeout(deadline);
      ledger.releaseWaiters();
    }
    // No new batch is claimed from here on; the ones already sent are answered (each within the
    // request timeout) and acked or released before this returns.
    await loop.close();
    stopWaking?.();
    await reconcile(false);
    const { queued } = ledger.stats();
    if (queued > 0) report.warn(`shut down with ${queued} event(s) still queued`);
    return ledger.stats();
  }

  const views = requestViews(settings, report, intake);

  const client: Conversions & { toJSON(): unknown } = {
    pixelId,
    track: (input, context, trackOptions) => intake.track(input, context, trackOptions),
    flush,
    shutdown,
    stats: () => ledger.stats(),
    resume: () => loop.resume(),
    pixel: views.pixel,
    forRequest: views.forRequest,
    deadLetters: (listOptions) => outbox.deadLetters(listOptions),
    async replay(keys) {
      const letters = (await outbox.deadLetters()).filter(
        (letter) => !keys || keys.includes(letter.record.key),
      );
      const count = await outbox.replay(letters.map((letter) => letter.record.key));
      ledger.replay(
        letters.map((letter) => letter.record),
        count,
      );
      if (count > 0) loop.drain();
      return count;
    },
    // Serializing the client shows its configuration, never the key.
    toJSON: () => ({ pixelId, endpoint, apiKey: '[redacted]' }),
  };
  Object.defineProperty(client, Symbol.for('nodejs.util.inspect.custom'), {
    value: () => `Conversions { pixelId: '${pixelId}', endpoint: '${endpoint}', apiKey: [redacted] }`,
  });
  return client;
}

// What other processes sharing the outbox settled: this process's events (`mine`), and the
// start-up backlog.
async function reconcileShared(
  outbox: Outbox,
  ledger: Ledger,
  report: Reporter,
  mine: boolean,
): Promise<void> {
  try {
    if (mine && outbox.pending) {
      const asked = ledger.unsettledKeys();
      ledger.settledElsewhere(asked, await outbox.pending(asked));
    }
    if (ledger.backlog > 0) ledger.reconcileBacklog(await outbox.size());
  } catch (error) {
    report.error(`outbox unavailable: ${String(error)}`);
  }
}
