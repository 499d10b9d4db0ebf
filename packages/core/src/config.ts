// The client's options: their types, their defaults, and the one place they are read. Every
// part of the client (intake, ledger, delivery loop) takes the resolved, frozen settings.
import type { BuildOptions } from './build.js';
import {
  type ConsentDecision,
  type ConsentMode,
  type ConsentResolver,
  defaultConsentResolvers,
} from './consent.js';
import type { HashFunction } from './hash.js';
import { ConversionsConfigError, checkConversionsOptions } from './options.js';
import { type DeadLetterReason, MemoryOutbox, type Outbox } from './outbox.js';
import type { PixelOptions } from './pixel.js';
import type { RetryPolicy } from './retry-policy.js';
import { type ActionSource, MAX_EVENTS_PER_REQUEST } from './schema.js';
import { checkIntegrationSource } from './validate.js';

/** Default endpoint of OpenAI's Conversions API. @example DEFAULT_ENDPOINT; // 'https://bzr.openai.com/v1/events' */
export const DEFAULT_ENDPOINT = 'https://bzr.openai.com/v1/events';

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
  /**
   * SHA-256 hex function used for identifiers. Default: the runtime's synchronous digest where it
   * has one (Node, Bun, Deno), Web Crypto elsewhere; see {@link defaultSha256}.
   */
  hash?: HashFunction;
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
    /**
     * Sends an event may take before a transient failure (timeout, 429, 5xx) dead-letters it as
     * `max_attempts`. Default: no limit; an event is retried until it is 7 days old (`stale`).
     */
    maxAttempts?: number;
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
 * Every setting of a client with its default applied, checked and frozen: what the intake, the
 * ledger and the delivery loop read. Made once by {@link resolveOptions}.
 *
 * @example
 * const settings: ResolvedOptions = resolveOptions({ pixelId: 'px', apiKey: 'k' });
 * settings.batch.maxEvents; // 1000
 */
export interface ResolvedOptions {
  readonly pixelId: string;
  readonly apiKey: string;
  readonly endpoint: string;
  readonly mode: ConsentMode;
  readonly resolvers: readonly ConsentResolver[];
  readonly cookie: ConversionsOptions['cookie'];
  /** The pixel's defaults: the stand-in script off OpenAI, and the debug flag. */
  readonly pixel: Readonly<Pick<PixelOptions, 'scriptUrl' | 'debug'>>;
  readonly build: Readonly<BuildOptions>;
  readonly batch: Readonly<{
    maxEvents: number;
    maxBytes: number;
    flushIntervalMs: number;
    concurrency: number;
  }>;
  readonly retry: Readonly<RetryPolicy & { timeoutMs: number }>;
  /** The request body up to the first event: `{"validate_only":…,"integration_source":…,"events":[`. */
  readonly envelopeStart: string;
  readonly outbox: Outbox;
  readonly fetch: typeof fetch;
  readonly clock: { now(): number };
  readonly random: () => number;
  readonly logger: Logger;
  readonly hooks: ConversionHooks;
  readonly debug: boolean;
}

/**
 * Checks every option (throwing {@link ConversionsConfigError} for any that can never work) and
 * applies the defaults.
 *
 * @example
 * const settings = resolveOptions({ pixelId: 'px_123', apiKey: key, batch: { maxEvents: 500 } });
 * settings.retry.maxAttempts; // Infinity
 */
export function resolveOptions(options: ConversionsOptions): ResolvedOptions {
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
  return Object.freeze({
    pixelId: options.pixelId,
    apiKey: options.apiKey,
    endpoint,
    mode: options.consent?.mode ?? 'opt-in',
    resolvers: options.consent?.resolvers ?? defaultConsentResolvers(),
    cookie: options.cookie,
    pixel: Object.freeze({
      ...(scriptUrl ? { scriptUrl } : {}),
      ...(options.pixel?.debug !== undefined ? { debug: options.pixel.debug } : {}),
    }),
    build: Object.freeze({
      ...(options.defaultCountry ? { defaultCountry: options.defaultCountry } : {}),
      ...(options.defaultActionSource ? { defaultActionSource: options.defaultActionSource } : {}),
      ...(options.keepSourceUrlQuery ? { keepSourceUrlQuery: true } : {}),
      ...(options.hash ? { hash: options.hash } : {}),
    }),
    batch: Object.freeze({
      maxEvents: options.batch?.maxEvents ?? MAX_EVENTS_PER_REQUEST,
      maxBytes: options.batch?.maxBytes ?? 1024 * 1024,
      flushIntervalMs: options.batch?.flushIntervalMs ?? 1000,
      concurrency: Math.max(1, options.batch?.concurrency ?? 2),
    }),
    retry: Object.freeze({
      baseDelayMs: options.retry?.baseDelayMs ?? 500,
      maxDelayMs: options.retry?.maxDelayMs ?? 60_000,
      timeoutMs: options.retry?.timeoutMs ?? 10_000,
      maxAttempts: options.retry?.maxAttempts ?? Number.POSITIVE_INFINITY,
    }),
    envelopeStart: envelopeStart(options),
    outbox: options.outbox ?? new MemoryOutbox(),
    fetch: options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args)),
    clock: options.clock ?? Date,
    random: options.random ?? Math.random,
    logger: options.logger ?? consoleLogger,
    hooks: options.hooks ?? {},
    debug: options.debug === true,
  });
}

function envelopeStart(options: ConversionsOptions): string {
  let integrationSource: string | undefined;
  if (options.integrationSource !== undefined) {
    const checked = checkIntegrationSource(options.integrationSource);
    if (!checked.ok) throw new ConversionsConfigError(checked.message);
    integrationSource = checked.value;
  }
  return (
    '{' +
    (options.validateOnly ? '"validate_only":true,' : '') +
    (integrationSource ? `"integration_source":${JSON.stringify(integrationSource)},` : '') +
    '"events":['
  );
}

const consoleLogger: Logger = {
  warn: (message) => console.warn(`[chatgpt-ads] ${message}`),
  error: (message) => console.error(`[chatgpt-ads] ${message}`),
};
