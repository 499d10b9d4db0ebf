import { type BuildOptions, buildEvent, type ConversionInput, createEventId } from './build.js';
import {
  appDecision,
  type ConsentDecision,
  type ConsentMode,
  type ConsentResolver,
  type ConsentState,
  consentAllows,
  defaultConsentResolvers,
} from './consent.js';
import { readOpprefFromUrl } from './cookies.js';
import { ConversionsConfigError, checkConversionsOptions } from './options.js';
import {
  type DeadLetter,
  type DeadLetterReason,
  MemoryOutbox,
  type Outbox,
  type OutboxRecord,
} from './outbox.js';
import { type PixelOptions, renderPixel, renderPixelCode } from './pixel.js';
import { type IncomingRequest, type RequestContext, type RequestReading, readRequest } from './request.js';
import { type ActionSource, type Issue, MAX_EVENTS_PER_REQUEST, type WireEvent } from './schema.js';
import { postEvents, type SendOutcome } from './transport.js';
import { checkIntegrationSource, MAX_EVENT_AGE_MS } from './validate.js';

/** Default endpoint of OpenAI's Conversions API. @example DEFAULT_ENDPOINT; // 'https://bzr.openai.com/v1/events' */
export const DEFAULT_ENDPOINT = 'https://bzr.openai.com/v1/events';
/** Events older than 7 days minus this margin are dead-lettered as stale at send time. @example STALE_MARGIN_MS; // 300000 */
export const STALE_MARGIN_MS = 5 * 60_000;

/**
 * Where log lines go. Messages never contain the API key or raw personal data.
 *
 * @example
 * const logger: Logger = { warn: (msg) => pino.warn(msg), error: (msg) => pino.error(msg) };
 */
export interface Logger {
  debug?(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/**
 * Callbacks for observability. A throwing hook is logged and ignored.
 *
 * @example
 * const hooks: ConversionHooks = { deadLettered: ({ id, reason }) => metrics.increment(`capi.dead.${reason}`) };
 */
export interface ConversionHooks {
  delivered?(info: { ids: string[]; status: number }): void;
  retried?(info: { ids: string[]; delayMs: number; status?: number; message: string }): void;
  deadLettered?(info: { id: string; key: string; reason: DeadLetterReason; message: string }): void;
  skipped?(info: { reason: 'consent'; source: string; state: ConsentDecision['state'] }): void;
  halted?(info: HaltInfo): void;
}

/**
 * Why sending stopped: the endpoint refused the configuration.
 *
 * @example
 * const halt: HaltInfo = { status: 401, message: 'invalid api key' };
 */
export interface HaltInfo {
  status: number;
  message: string;
}

/**
 * Options of {@link createConversions}.
 *
 * @example
 * createConversions({ pixelId: 'px_123', apiKey: conversionsApiKey, consent: { mode: 'opt-in' } });
 */
export interface ConversionsOptions {
  pixelId: string;
  /** Conversions API key. Kept out of logs, errors and serialization. */
  apiKey: string;
  /** Default {@link DEFAULT_ENDPOINT}; point it at the sandbox in development and tests. */
  endpoint?: string;
  /**
   * Allow a plain `http://` endpoint on a non-loopback host. Default false: the API key would
   * travel in clear, so only `https://` and loopback addresses (the sandbox) are accepted.
   */
  allowInsecureEndpoint?: boolean;
  /** Consent mode (default `opt-in`) and the resolvers that read consent from requests. */
  consent?: { mode?: ConsentMode; resolvers?: readonly ConsentResolver[] };
  /** Where `pixel()` loads the pixel script from (e.g. the sandbox's stand-in pixel), and its debug flag. */
  pixel?: { scriptUrl?: string; debug?: boolean };
  /** Attributes of the `__oppref` cookie written by {@link Conversions.readRequest}. */
  cookie?: { domain?: string; secure?: boolean; maxAgeSeconds?: number };
  /** ISO 3166-1 alpha-2 country for phones written without a country code. */
  defaultCountry?: string;
  /** `action_source` for events tracked without a request context. */
  defaultActionSource?: ActionSource;
  /** Keep the query string of `source_url`. Default false. */
  keepSourceUrlQuery?: boolean;
  /** SHA-256 hex function used for identifiers (default Web Crypto); see `BuildOptions.hash`. */
  hash?: (value: string) => string | Promise<string>;
  batch?: {
    /** Events per request, at most 1,000. Default 1,000. */
    maxEvents?: number;
    /** Request body budget in bytes. Default 1 MiB. */
    maxBytes?: number;
    /** How long an event may wait for its batch to fill. Default 1,000 ms. */
    flushIntervalMs?: number;
    /** Requests in flight at once. Default 2. */
    concurrency?: number;
  };
  retry?: {
    /** First backoff ceiling. Default 500 ms. */
    baseDelayMs?: number;
    /** Largest backoff ceiling. Default 60 s. */
    maxDelayMs?: number;
    /** Per-request timeout. Default 10 s. */
    timeoutMs?: number;
  };
  /** Where events wait. Default a {@link MemoryOutbox} of 100,000 events. */
  outbox?: Outbox;
  fetch?: typeof fetch;
  clock?: { now(): number };
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  logger?: Logger;
  hooks?: ConversionHooks;
  /** Ask the API to validate without storing (`validate_only`). */
  validateOnly?: boolean;
  /** Partner identifier sent as `integration_source` on every request. */
  integrationSource?: string;
  /** Log every decision (skip, refusal, queueing, delivery) at debug level, not only the first of each kind. */
  debug?: boolean;
}

/**
 * What `track` did with a conversion.
 *
 * @example
 * const result = await conversions.track(input, context);
 * if (result.status === 'refused') log(result.issues);
 */
export type TrackResult =
  | { status: 'queued'; id: string; warnings: Issue[]; duplicate?: true }
  | { status: 'refused'; issues: Issue[] }
  | { status: 'skipped'; reason: 'consent'; source: string };

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

/**
 * Options of one {@link Conversions.track} call.
 *
 * @example
 * await conversions.track(input, context, { transaction: pgClient });
 */
export interface TrackOptions {
  /** The app's transaction handle, passed to the outbox's `append`. */
  transaction?: unknown;
}

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
  /** Reads consent, `oppref` and context from a request with this client's consent and cookie settings. */
  readRequest(incoming: IncomingRequest): RequestReading;
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
 * Options of {@link Conversions.forRequest}.
 *
 * @example
 * conversions.forRequest(incoming, { consent: session.adConsent, nonce: () => res.locals.cspNonce });
 */
export interface ForRequestOptions {
  /** The app's own answer for this visitor; it decides before any cookie or header is read. */
  consent?: ConsentState;
  /** The response's CSP nonce, read when the pixel is rendered. */
  nonce?: () => string | undefined;
  /** Use this event id instead of a fresh one (e.g. an order id known up front). */
  eventId?: string;
}

/**
 * One request's view of the client, as adapters expose it (`req.chatgptAds` in Express).
 *
 * @example
 * const ads = conversions.forRequest(incoming);
 * await ads.track({ type: 'lead_created' });   // id: ads.eventId
 * html += ads.pixel({ type: 'lead_created' });   // event_id: ads.eventId
 */
export interface RequestConversions {
  readonly context: RequestContext;
  readonly consent: ConsentDecision;
  /** `Set-Cookie` values the response must carry (written by adapters). */
  readonly setCookies: readonly string[];
  /** The id of this request's conversion: `track` and `pixel` use it unless given another. */
  readonly eventId: string;
  track(input: ConversionInput, options?: TrackOptions): Promise<TrackResult>;
  /** The pixel snippet, measuring `event` (if given) with `event_id` = its id or {@link eventId}. */
  pixel(event?: PixelEventInput, options?: { nonce?: string }): string;
  /** The same snippet's JavaScript without the `<script>` tag, for frameworks that render the tag. */
  pixelCode(event?: PixelEventInput): string;
}

/**
 * The event a page's pixel measures; `id` defaults to the request's event id.
 *
 * @example
 * const event: PixelEventInput = { type: 'order_created', data: { amount: 12999, currency: 'USD' } };
 */
export type PixelEventInput = Omit<NonNullable<PixelOptions['event']>, 'id'> & { id?: string };

/**
 * The dedup key OpenAI uses: pixel id + event name (the custom name for `custom`) + id.
 *
 * @example
 * dedupKey('px', { type: 'order_created', id: 'o1' }); // '["px","order_created","o1"]'
 */
export function dedupKey(
  pixelId: string,
  event: Pick<WireEvent, 'type' | 'id' | 'custom_event_name'>,
): string {
  const name = event.type === 'custom' ? `custom:${event.custom_event_name ?? ''}` : event.type;
  // A JSON array: unambiguous for any id, and safe to store as text anywhere (no NUL separators).
  return JSON.stringify([pixelId, name, event.id]);
}

const encoder = new TextEncoder();

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
  checkConversionsOptions(options);
  const endpoint = options.endpoint ?? DEFAULT_ENDPOINT;
  // Pointed anywhere but OpenAI (the sandbox, a test server), the page loads the stand-in pixel
  // from the same origin, so development traffic never reaches OpenAI's pixel.
  // `scriptUrl: undefined` (an unset variable) keeps that default.
  const scriptUrl =
    options.pixel?.scriptUrl ??
    (/(^|\.)openai\.com$/.test(new URL(endpoint).hostname)
      ? undefined
      : new URL('/sdk/oaiq.min.js', endpoint).href);
  const pixelDefaults = {
    ...(scriptUrl ? { scriptUrl } : {}),
    ...(options.pixel?.debug !== undefined ? { debug: options.pixel.debug } : {}),
  };
  let integrationSource: string | undefined;
  if (options.integrationSource !== undefined) {
    const checked = checkIntegrationSource(options.integrationSource);
    if (!checked.ok) throw new ConversionsConfigError(checked.message);
    integrationSource = checked.value;
  }
  const maxEvents = options.batch?.maxEvents ?? MAX_EVENTS_PER_REQUEST;

  const { pixelId } = options;
  const apiKey = options.apiKey;
  const mode = options.consent?.mode ?? 'opt-in';
  const maxBytes = options.batch?.maxBytes ?? 1024 * 1024;
  const flushIntervalMs = options.batch?.flushIntervalMs ?? 1000;
  const concurrency = Math.max(1, options.batch?.concurrency ?? 2);
  const baseDelayMs = options.retry?.baseDelayMs ?? 500;
  const maxDelayMs = options.retry?.maxDelayMs ?? 60_000;
  const timeoutMs = options.retry?.timeoutMs ?? 10_000;
  const outbox: Outbox = options.outbox ?? new MemoryOutbox();
  const fetchImpl = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const clock = options.clock ?? Date;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? consoleLogger;
  const hooks = options.hooks ?? {};
  const buildOptions: BuildOptions = {
    ...(options.defaultCountry ? { defaultCountry: options.defaultCountry } : {}),
    ...(options.defaultActionSource ? { defaultActionSource: options.defaultActionSource } : {}),
    ...(options.keepSourceUrlQuery ? { keepSourceUrlQuery: true } : {}),
    ...(options.hash ? { hash: options.hash } : {}),
  };
  const envelopeStart =
    '{' +
    (options.validateOnly ? '"validate_only":true,' : '') +
    (integrationSource ? `"integration_source":${JSON.stringify(integrationSource)},` : '') +
    '"events":[';

  const counters: ConversionStats = {
    accepted: 0,
    queued: 0,
    delivered: 0,
    deadLettered: 0,
    deadLetteredByReason: { invalid: 0, stale: 0, too_large: 0 },
    retried: 0,
    skipped: 0,
    skippedBySource: {},
    refused: 0,
    deduplicated: 0,
    replayed: 0,
    handledElsewhere: 0,
    requests: 0,
  };
  let queuedBytes = 0;
  // Keys (and sizes) this process accepted that are not delivered or dead-lettered yet.
  const unsettled = new Map<string, number>();
  let waiters: Array<{ keys: Set<string>; resolve: () => void }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerDue = 0;
  let pausedUntil = 0;
  let failures = 0;
  let halted: HaltInfo | undefined;
  let inFlight = 0;
  // Claimed and in flight; what still waits for a batch is queued minus leased.
  let leasedEvents = 0;
  let leasedBytes = 0;
  let drainRequested = false;
  let pumping = false;
  let pumpAgain = false;
  let accepting = true;
  let closed = false;

  const callHook = <K extends keyof ConversionHooks>(
    name: K,
    info: Parameters<NonNullable<ConversionHooks[K]>>[0],
  ) => {
    try {
      (hooks[name] as ((arg: typeof info) => void) | undefined)?.(info);
    } catch (error) {
      logger.warn(`hook ${name} threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  // A durable outbox may hold events from an earlier process: send them too, and let flush() wait for them.
  let backlog = 0;
  const startup = outbox.size().then(
    (size) => {
      if (size > 0 && !closed) {
        backlog = size;
        counters.queued += size;
        requestDrain();
      }
    },
    (error) => logger.error(`outbox unavailable: ${String(error)}`),
  );

  function settle(records: readonly Pick<OutboxRecord, 'key' | 'bytes'>[]): void {
    for (const record of records) {
      // A shared outbox hands this process events others accepted: never count below zero.
      counters.queued = Math.max(0, counters.queued - 1);
      queuedBytes = Math.max(0, queuedBytes - record.bytes);
      if (!unsettled.delete(record.key)) backlog = Math.max(0, backlog - 1);
    }
    if (waiters.length === 0) return;
    waiters = waiters.filter((waiter) => {
      for (const record of records) waiter.keys.delete(record.key);
      if (waiter.keys.size > 0) return true;
      waiter.resolve();
      return false;
    });
  }

  function releaseWaiters(): void {
    for (const waiter of waiters) waiter.resolve();
    waiters = [];
  }

  function arm(delayMs: number): void {
    if (closed || halted) return;
    const due = clock.now() + delayMs;
    if (timer !== undefined && timerDue <= due) return;
    if (timer !== undefined) clearTimeout(timer);
    timerDue = due;
    timer = setTimeout(() => {
      timer = undefined;
      requestDrain();
    }, delayMs);
    // A pending batch must never keep the process alive on its own.
    (timer as { unref?: () => void }).unref?.();
  }

  function requestDrain(): void {
    drainRequested = true;
    void pump();
  }

  // Sends in flight: shutdown() waits for them, so a process that exits right after it never
  // leaves a batch half-sent for another process to send again.
  const deliveries = new Set<Promise<void>>();

  async function pump(): Promise<void> {
    if (closed) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        while (drainRequested && !halted && !closed && inFlight < concurrency) {
          const wait = pausedUntil - clock.now();
          if (wait > 0) {
            arm(wait);
            break;
          }
          const records = await outbox.claim({ maxEvents, maxBytes });
          if (records.length === 0) {
            drainRequested = false;
            break;
          }
          inFlight++;
          leasedEvents += records.length;
          const bytes = records.reduce((sum, record) => sum + record.bytes, 0);
          leasedBytes += bytes;
          const delivery: Promise<void> = deliver(records)
            .catch((error) => logger.error(`delivery failed unexpectedly: ${String(error)}`))
            .finally(() => {
              deliveries.delete(delivery);
              inFlight--;
              leasedEvents -= records.length;
              leasedBytes -= bytes;
              if (drainRequested) void pump();
              else if (counters.queued > leasedEvents) arm(flushIntervalMs);
            });
          deliveries.add(delivery);
        }
      } while (pumpAgain);
    } catch (error) {
      logger.error(`outbox claim failed: ${String(error)}`);
      arm(backoff());
    } finally {
      pumping = false;
    }
    if (!drainRequested && counters.queued > leasedEvents) arm(flushIntervalMs);
  }

  function backoff(): number {
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures, 30));
    return Math.max(1, Math.floor(random() * ceiling));
  }

  async function deadLetter(
    records: readonly OutboxRecord[],
    reason: DeadLetterReason,
    message: string,
  ): Promise<void> {
    const at = clock.now();
    await outbox.deadLetter(records.map((record) => ({ key: record.key, reason, message, at })));
    counters.deadLettered += records.length;
    counters.deadLetteredByReason[reason] += records.length;
    settle(records);
    for (const record of records)
      callHook('deadLettered', { id: record.id, key: record.key, reason, message });
    logger.warn(`dead-lettered ${records.length} event(s) as ${reason}: ${message}`);
  }

  async function deliver(records: OutboxRecord[]): Promise<void> {
    const cutoff = clock.now() - MAX_EVENT_AGE_MS + STALE_MARGIN_MS;
    const stale = records.filter((record) => record.timestampMs < cutoff);
    if (stale.length > 0) {
      await deadLetter(stale, 'stale', 'older than 7 days (less a 5-minute margin) at send time; never sent');
    }
    const fresh = stale.length > 0 ? records.filter((record) => record.timestampMs >= cutoff) : records;
    if (fresh.length > 0) await send(fresh);
  }

  /**
   * Sends one group. On a 400/422 it isolates the bad events itself, unless `isolate` is false:
   * then the group stays leased and the caller decides (the search in {@link isolateInvalid}).
   */
  async function send(records: OutboxRecord[], isolate = true): Promise<SendOutcome> {
    if (halted || pausedUntil > clock.now()) {
      await outbox.release(records);
      return { kind: 'retry', message: 'deferred' };
    }
    counters.requests++;
    for (const record of records) record.attempts++;
    const outcome = await postEvents({
      fetch: fetchImpl,
      endpoint,
      pixelId,
      apiKey,
      body: `${envelopeStart}${records.map((record) => record.body).join(',')}]}`,
      timeoutMs,
      now: () => clock.now(),
    });

    switch (outcome.kind) {
      case 'delivered': {
        failures = 0;
        await outbox.ack(records.map((record) => record.key));
        counters.delivered += records.length;
        settle(records);
        callHook('delivered', { ids: records.map((record) => record.id), status: outcome.status });
        debug(`delivered ${records.length} event(s) (HTTP ${outcome.status})`);
        break;
      }
      case 'invalid': {
        if (!isolate) break;
        if (records.length === 1) {
          await deadLetter(records, 'invalid', outcome.message);
          break;
        }
        const named = outcome.eventIndexes.filter((index) => index < records.length);
        if (named.length > 0) {
          // The endpoint named its culprits: confirm each alone, send the rest together.
          const suspects = new Set(named.map((index) => records[index]!));
          for (const suspect of suspects) await send([suspect]);
          const rest = records.filter((record) => !suspects.has(record));
          if (rest.length > 0) await send(rest);
        } else {
          await isolateInvalid(records, outcome.message);
        }
        break;
      }
      case 'too_large': {
        if (records.length === 1) await deadLetter(records, 'too_large', outcome.message);
        else {
          const middle = Math.ceil(records.length / 2);
          await send(records.slice(0, middle));
          await send(records.slice(middle));
        }
        break;
      }
      case 'halt': {
        await outbox.release(records);
        if (!halted) {
          halted = { status: outcome.status, message: outcome.message };
          counters.halted = halted;
          logger.error(
            `ChatGPT Ads refused the configuration (HTTP ${outcome.status}: ${outcome.message}). ` +
              `Sending is halted with ${counters.queued} event(s) kept queued; check the pixel id and API key, then call resume().`,
          );
          callHook('halted', halted);
          releaseWaiters();
        }
        break;
      }
      case 'retry': {
        failures++;
        const delayMs = outcome.retryAfterMs ?? backoff();
        pausedUntil = Math.max(pausedUntil, clock.now() + delayMs);
        counters.retried += records.length;
        await outbox.release(records);
        callHook('retried', {
          ids: records.map((record) => record.id),
          delayMs,
          message: outcome.message,
          ...(outcome.status !== undefined ? { status: outcome.status } : {}),
        });
        debug(`retrying ${records.length} event(s) in ${delayMs} ms: ${outcome.message}`);
        drainRequested = true;
        arm(delayMs);
        break;
      }
    }
    return outcome;
  }

  /**
   * Finds the first invalid event of a rejected group by halving: a half that goes through is
   * delivered, a half that fails is searched further, and the halves set aside on the way are sent
   * together afterwards (and searched again if they fail). k bad events among n cost about
   * k·(log2 n + 1) requests.
   */
  async function isolateInvalid(records: OutboxRecord[], message: string): Promise<void> {
    let suspects = records;
    let reason = message;
    const setAside: OutboxRecord[] = [];
    while (suspects.length > 1) {
      const middle = Math.ceil(suspects.length / 2);
      const left = suspects.slice(0, middle);
      const right = suspects.slice(middle);
      const outcome = await send(left, false);
      if (outcome.kind === 'delivered') suspects = right;
      else if (outcome.kind === 'invalid') {
        setAside.push(...right);
        suspects = left;
        reason = outcome.message;
      } else {
        // Retried, too large or halted: `left` is handled; the rest goes back through send().
        setAside.push(...right);
        suspects = [];
      }
    }
    if (suspects.length === 1) await deadLetter(suspects, 'invalid', reason);
    if (setAside.length > 0) await send(setAside);
  }

  // Events a durable outbox held at start are counted as queued here; other processes sharing it
  // may have sent them since. What the outbox no longer holds is no longer queued.
  async function reconcileBacklog(): Promise<void> {
    if (backlog === 0) return;
    let size: number;
    try {
      size = await outbox.size();
    } catch {
      return;
    }
    const still = Math.min(backlog, Math.max(0, size - unsettled.size));
    const gone = backlog - still;
    if (gone === 0) return;
    backlog = still;
    counters.queued = Math.max(0, counters.queued - gone);
    counters.handledElsewhere += gone;
  }

  // Events this process accepted but another process sharing the outbox delivered or dead-lettered.
  async function reconcile(pending: NonNullable<Outbox['pending']>): Promise<void> {
    const still = new Set(await pending([...unsettled.keys()]));
    const gone = [...unsettled].filter(([key]) => !still.has(key)).map(([key, bytes]) => ({ key, bytes }));
    if (gone.length === 0) return;
    counters.handledElsewhere += gone.length;
    settle(gone);
  }

  function stats(): ConversionStats {
    return {
      ...counters,
      deadLetteredByReason: { ...counters.deadLetteredByReason },
      skippedBySource: { ...counters.skippedBySource },
      ...(halted ? { halted: { ...halted } } : {}),
    };
  }

  // A logger's own debug level always gets these; with `debug: true` a logger without one (the
  // console default) prints them as warnings, so CHATGPT_ADS_DEBUG=1 shows every decision.
  function debug(message: string): void {
    if (logger.debug) logger.debug(message);
    else if (options.debug) logger.warn(message);
  }

  // One log line per reason per process says what happened and what to change; `debug` logs all.
  const explained = new Set<string>();
  function explain(reason: string, message: string): void {
    if (options.debug) debug(message);
    else if (!explained.has(reason)) {
      explained.add(reason);
      logger.warn(message);
    }
  }

  function refuse(issues: Issue[], type: unknown): TrackResult {
    counters.refused++;
    const codes = [...new Set(issues.map((issue) => issue.code))].join(', ');
    explain(
      `refused:${codes}`,
      `refused ${typeof type === 'string' ? type : 'a conversion'} (${codes}): nothing was queued; ` +
        "the result's issues name each field to fix",
    );
    return { status: 'refused', issues };
  }

  /** Never throws: whatever the input and context, the caller's request gets a status back. */
  async function track(
    input: ConversionInput,
    context?: RequestContext,
    trackOptions?: TrackOptions,
  ): Promise<TrackResult> {
    try {
      return await intake(input, context, trackOptions?.transaction);
    } catch (error) {
      return refuse(
        [{ path: '', code: 'not_object', message: `the input could not be read (${errorName(error)})` }],
        undefined,
      );
    }
  }

  async function intake(
    input: ConversionInput,
    rawContext: RequestContext | undefined,
    transaction: unknown,
  ): Promise<TrackResult> {
    if (!accepting) {
      return refuse([{ path: '', code: 'closed', message: 'the client is shut down' }], input?.type);
    }
    const consent = appDecision(readConsent(rawContext)) ?? { state: 'unknown', source: 'none' };
    if (!consentAllows(mode, consent.state)) {
      counters.skipped++;
      counters.skippedBySource[consent.source] = (counters.skippedBySource[consent.source] ?? 0) + 1;
      callHook('skipped', { reason: 'consent', source: consent.source, state: consent.state });
      explain(
        `skipped:${consent.state}:${consent.source}`,
        consent.source === 'app:invalid'
          ? "skipped: the app's consent answer is not 'granted', 'denied' or 'unknown'; read as a denial — fix the value you pass"
          : consent.state === 'denied'
            ? `skipped: consent denied (${consent.source}); nothing is stored or sent for this visitor, as required`
            : `skipped: no consent signal under ${mode} — pass the visitor's answer (context.consent or the ` +
              "adapter's consent option), let the pixel's consent cookie __oaiq_consent reach the server, or " +
              "use consent: { mode: 'opt-out' } where the law allows it (see docs/troubleshooting.md)",
      );
      return { status: 'skipped', reason: 'consent', source: consent.source };
    }
    const built = await buildEvent(input, rawContext, { ...buildOptions, now: clock.now() });
    if (!built.ok) return refuse(built.issues, input?.type);
    const { warnings } = built;
    for (const warning of warnings) {
      explain(`left-out:${warning.code}`, `left out ${warning.path} (${warning.code}): ${warning.message}`);
    }
    let body: string;
    try {
      body = JSON.stringify(built.event);
    } catch (error) {
      return refuse(
        [
          {
            path: 'data',
            code: 'not_serializable',
            message: `the event cannot be written as JSON (${errorName(error)})`,
          },
        ],
        input.type,
      );
    }
    const bytes = encoder.encode(body).length;
    if (bytes + envelopeStart.length + 2 > maxBytes) {
      return refuse(
        [
          {
            path: '',
            code: 'event_too_large',
            message: `the event is ${bytes} bytes; batch.maxBytes is ${maxBytes}`,
          },
        ],
        input.type,
      );
    }
    const record: OutboxRecord = {
      key: dedupKey(pixelId, built.event),
      id: built.event.id,
      body,
      bytes,
      timestampMs: built.event.timestamp_ms,
      acceptedAt: clock.now(),
      attempts: 0,
    };
    let appended: Awaited<ReturnType<Outbox['append']>>;
    try {
      appended = await outbox.append(record, transaction === undefined ? undefined : { transaction });
    } catch (error) {
      logger.error(`outbox append failed: ${String(error)}`);
      return refuse(
        [
          {
            path: '',
            code: 'outbox_error',
            message: `the outbox could not store the event (${error instanceof Error ? error.message : errorName(error)})`,
          },
        ],
        input.type,
      );
    }
    if (appended === 'full') {
      return refuse(
        [{ path: '', code: 'queue_full', message: 'the outbox is full; the event was not accepted' }],
        input.type,
      );
    }
    if (appended === 'duplicate') {
      counters.deduplicated++;
      return { status: 'queued', id: record.id, warnings, duplicate: true };
    }
    counters.accepted++;
    counters.queued++;
    queuedBytes += bytes;
    unsettled.set(record.key, bytes);
    if (options.debug) debug(`queued ${built.event.type} ${record.id} (${bytes} bytes)`);
    // A full batch goes at once; a partial one waits for flushIntervalMs from its first event. The
    // interval restarts after a full batch leaves, so a steady stream is not cut into extra requests.
    if (counters.queued - leasedEvents >= maxEvents || queuedBytes - leasedBytes >= maxBytes) {
      if (timer !== undefined && !(pausedUntil > clock.now())) {
        clearTimeout(timer);
        timer = undefined;
      }
      requestDrain();
    } else arm(flushIntervalMs);
    return { status: 'queued', id: record.id, warnings };
  }

  async function flush(): Promise<ConversionStats> {
    await startup;
    if (halted) return stats();
    const keys = new Set(unsettled.keys());
    requestDrain();
    let settled = keys.size === 0;
    const done = settled
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ keys, resolve })).then(() => {
          settled = true;
        });
    if (!outbox.pending && backlog === 0) {
      await done;
      return stats();
    }
    // A shared or pre-filled outbox: other processes may deliver events, or hold leases that must
    // expire first, so look again now and then.
    while ((!settled || backlog > 0) && !halted && !closed) {
      let pause: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<void>((resolve) => {
        pause = setTimeout(resolve, 250);
      });
      await (settled ? tick : Promise.race([done, tick]));
      clearTimeout(pause);
      if (closed) break;
      if (inFlight > 0) continue;
      if (!settled && outbox.pending) await reconcile(outbox.pending.bind(outbox));
      await reconcileBacklog();
      requestDrain();
    }
    return stats();
  }

  async function shutdown(shutdownOptions: { timeoutMs?: number } = {}): Promise<ConversionStats> {
    accepting = false;
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
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      releaseWaiters();
    }
    // No new batch is claimed from here on; the ones already sent are answered (each within the
    // request timeout) and acked or released before this returns.
    await Promise.allSettled([...deliveries]);
    await reconcileBacklog();
    if (counters.queued > 0) logger.warn(`shut down with ${counters.queued} event(s) still queued`);
    return stats();
  }

  // Why a landing's click id was not stored: said once per reason (no PII, no value).
  function explainCapture(incoming: IncomingRequest, reading: RequestReading): void {
    for (const issue of reading.refused)
      explain(
        `capture:${issue.code}`,
        `${issue.path} not stored: ${issue.message} (over 2,048 characters, or spaces, ';', ',' or '"')`,
      );
    if (consentAllows(mode, reading.consent.state)) return;
    if (
      typeof incoming.url !== 'string' ||
      !incoming.url.includes('oppref=') ||
      readOpprefFromUrl(incoming.url) === undefined
    )
      return;
    explain(
      `capture:${reading.consent.state}`,
      reading.consent.state === 'denied'
        ? `oppref not stored: consent denied (${reading.consent.source}), as required`
        : `oppref not stored: no consent signal under ${mode} — the landing's click id is dropped until the visitor consents ` +
            '(see docs/troubleshooting.md)',
    );
  }

  // The client's pixel settings under the caller's: mode, script (the stand-in off OpenAI), debug.
  function pixelSettings(given: Omit<PixelOptions, 'pixelId'>): PixelOptions {
    return {
      mode,
      ...pixelDefaults,
      onDropped: (paths) =>
        explain(
          'pixel-dropped',
          `pixel: left out ${paths.join(', ')} (server-only fields the pixel does not accept); the server event keeps them`,
        ),
      ...given,
      pixelId,
    };
  }

  const resolvers = options.consent?.resolvers ?? defaultConsentResolvers();
  function readWith(incoming: IncomingRequest, answer?: ConsentState): RequestReading {
    const decided = appDecision(answer);
    if (decided?.source === 'app:invalid')
      explain(
        'app-consent-invalid',
        "the app's consent answer is not 'granted', 'denied' or 'unknown'; read as a denial",
      );
    return readRequest(incoming, {
      consent: {
        mode,
        resolvers: decided && decided.state !== 'unknown' ? [() => decided, ...resolvers] : resolvers,
      },
      ...(options.cookie ? { cookie: options.cookie } : {}),
    });
  }

  const client: Conversions & { toJSON(): unknown } = {
    pixelId,
    track,
    flush,
    shutdown,
    stats,
    resume() {
      if (!halted) return;
      halted = undefined;
      delete counters.halted;
      requestDrain();
    },
    readRequest: (incoming) => readWith(incoming),
    pixel: (pixelOptions) => renderPixel(pixelSettings(pixelOptions)),
    forRequest(incoming, requestOptions = {}) {
      const reading = readWith(incoming, requestOptions.consent);
      explainCapture(incoming, reading);
      const eventId = requestOptions.eventId ?? createEventId();
      return {
        context: reading.context,
        consent: reading.consent,
        setCookies: reading.setCookies,
        eventId,
        // The view's own defaulting runs inside track's guarantee too: any input gets a status.
        track: async (input, trackOptions) => {
          let withId: ConversionInput;
          try {
            withId = { ...input, id: input?.id ?? eventId };
          } catch {
            withId = input;
          }
          return track(withId, reading.context, trackOptions);
        },
        pixel: (event, pixelOptions = {}) => {
          const nonce = pixelOptions.nonce ?? requestOptions.nonce?.();
          return client.pixel({
            consent: reading.consent.state,
            ...(event ? { event: { ...event, id: event.id ?? eventId } } : {}),
            ...(nonce ? { nonce } : {}),
          });
        },
        pixelCode: (event) =>
          renderPixelCode(
            pixelSettings({
              consent: reading.consent.state,
              ...(event ? { event: { ...event, id: event.id ?? eventId } } : {}),
            }),
          ),
      };
    },
    deadLetters: (listOptions) => outbox.deadLetters(listOptions),
    async replay(keys) {
      // Replayed events are this process's again: flush() waits for them.
      const letters = (await outbox.deadLetters()).filter(
        (letter) => !keys || keys.includes(letter.record.key),
      );
      const count = await outbox.replay(letters.map((letter) => letter.record.key));
      for (const letter of letters) unsettled.set(letter.record.key, letter.record.bytes);
      counters.queued += count;
      counters.replayed += count;
      if (count > 0) requestDrain();
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

// Consent that cannot be read is unknown, which opt-in treats as no.
function readConsent(context: unknown): RequestContext['consent'] {
  try {
    return typeof context === 'object' && context !== null ? (context as RequestContext).consent : undefined;
  } catch {
    return undefined;
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

const consoleLogger: Logger = {
  warn: (message) => console.warn(`[chatgpt-ads] ${message}`),
  error: (message) => console.error(`[chatgpt-ads] ${message}`),
};
