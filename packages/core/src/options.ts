// Every option of createConversions is checked here, once, at construction. A value that is not
// one of the allowed ones throws: a typo must never quietly change behaviour (a misspelt consent
// mode used to behave like opt-out).
import { CONSENT_MODES } from './consent.js';
import { ACTION_SOURCES, MAX_EVENTS_PER_REQUEST } from './schema.js';

/**
 * Thrown by {@link createConversions} (and every adapter's constructor) for options that can never
 * work: a missing pixel id, an unknown option, a value outside the allowed ones. The message names
 * the option and what it accepts, never the API key.
 *
 * @example
 * try { createConversions({ pixelId: 'px', apiKey: 'k', consent: { mode: 'optin' as never } }); }
 * catch (e) { e instanceof ConversionsConfigError; } // true: "consent.mode must be one of 'opt-in', 'opt-out' …"
 */
export class ConversionsConfigError extends TypeError {
  override readonly name = 'ConversionsConfigError';
}

/**
 * A rule for one option: throws {@link ConversionsConfigError} when `value` breaks it.
 *
 * @example
 * const positive: OptionCheck = (value, path) => { if (!(Number(value) > 0)) throw new ConversionsConfigError(`${path} must be positive`); };
 */
export type OptionCheck = (value: unknown, path: string) => void;
type Check = OptionCheck;

function fail(path: string, expected: string, value: unknown, echo = false): never {
  throw new ConversionsConfigError(`${path} must be ${expected} (got ${describe(value, echo)})`);
}

// Shows what was given. Strings are echoed only for enumerated options (short, never secret): a key
// pasted into the wrong field must not end up in a log.
function describe(value: unknown, echo: boolean): string {
  if (typeof value === 'string')
    return echo && value.length <= 40 ? `'${value}'` : `a string of ${value.length} characters`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

/**
 * Checks that `value` is one of `allowed`, throwing {@link ConversionsConfigError} otherwise.
 * Adapters use it for their own enumerated options.
 *
 * @example
 * oneOf(['opt-in', 'opt-out'] as const, 'opt-out', 'consent.mode'); // 'opt-out'
 * oneOf(['opt-in', 'opt-out'] as const, 'optin', 'consent.mode');   // throws
 */
export function oneOf<T extends string>(allowed: readonly T[], value: unknown, path: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  fail(path, `one of ${allowed.map((v) => `'${v}'`).join(', ')}`, value, true);
}

const isBoolean: Check = (value, path) => {
  if (typeof value !== 'boolean') fail(path, 'true or false', value);
};
const isFunction: Check = (value, path) => {
  if (typeof value !== 'function') fail(path, 'a function', value);
};
const isString: Check = (value, path) => {
  if (typeof value !== 'string' || value.trim() === '') fail(path, 'a non-empty string', value);
};
const integerFrom =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (value, path) => {
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
      fail(path, `an integer from ${min} to ${max}`, value);
  };
// setTimeout fires at once for delays past 2^31 - 1 ms, which would turn a long delay into none.
const MAX_TIMER_MS = 2_147_483_647;
const durationMs: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS)
    fail(path, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, value);
};

/**
 * Ready-made rules for adapters' own options, to use with {@link checkKeys}.
 *
 * @example
 * checkKeys(adapterOptions, '', { nonce: optionChecks.function, trustProxy: optionChecks.boolean });
 */
export const optionChecks: Readonly<Record<'function' | 'boolean' | 'string', OptionCheck>> = {
  function: isFunction,
  boolean: isBoolean,
  string: isString,
};

/**
 * Checks an options object against a table of known keys: unknown keys throw with the nearest
 * known name, known keys are checked by their rule (`undefined` is always allowed).
 *
 * @example
 * checkKeys({ mode: 'opt-in' }, 'consent', { mode: (v, p) => oneOf(['opt-in', 'opt-out'], v, p) });
 */
export function checkKeys(value: unknown, path: string, rules: Readonly<Record<string, Check | null>>): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
  for (const key of Object.keys(value)) {
    const rule = rules[key];
    const at = path ? `${path}.${key}` : key;
    if (rule === undefined) {
      const near = nearest(key, Object.keys(rules));
      throw new ConversionsConfigError(
        `unknown option ${at}${near ? ` (did you mean ${path ? `${path}.` : ''}${near}?)` : ''}; known: ${Object.keys(rules).join(', ')}`,
      );
    }
    const given = (value as Record<string, unknown>)[key];
    if (rule !== null && given !== undefined) rule(given, at);
  }
}

function nearest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (
      distance < bestDistance ||
      candidate.toLowerCase().includes(lower) ||
      lower.includes(candidate.toLowerCase())
    ) {
      if (distance < bestDistance) bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

const consentRules = {
  mode: (value: unknown, path: string) => void oneOf(CONSENT_MODES, value, path),
  resolvers: (value: unknown, path: string) => {
    if (!Array.isArray(value)) fail(path, 'an array of consent resolvers', value);
    for (const [index, resolver] of value.entries()) isFunction(resolver, `${path}[${index}]`);
  },
};

const cookieRules = {
  domain: isString,
  secure: isBoolean,
  maxAgeSeconds: integerFrom(0),
};

/**
 * Checks the consent and cookie options shared by the client and by request readers that run
 * without a client (the Next.js proxy). Throws {@link ConversionsConfigError}.
 *
 * @example
 * checkRequestOptions({ consent: { mode: 'opt-out' } }, 'createOpprefProxy');
 */
export function checkRequestOptions(
  options: { consent?: unknown; cookie?: unknown } | undefined,
  path = '',
): void {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  if (options === undefined) return;
  checkKeys(options.consent, at('consent'), consentRules);
  checkKeys(options.cookie, at('cookie'), cookieRules);
}

function isUrl(allowInsecure: () => boolean): Check {
  return (value, path) => {
    let url: URL;
    try {
      url = new URL(value as string);
    } catch {
      fail(path, 'an absolute http(s) URL', value);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(path, 'an absolute http(s) URL', value);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecure()) {
      throw new ConversionsConfigError(
        `${path} ${url.origin} is plain http on a non-loopback host: the API key would travel in clear. ` +
          'Use https, a loopback address (the sandbox), or set allowInsecureEndpoint: true on a network you trust.',
      );
    }
  };
}

/**
 * True for `localhost`, `127.0.0.0/8` and `[::1]`: hosts whose traffic never leaves the machine.
 *
 * @example
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('10.0.0.5');  // false
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127(?:\.\d{1,3}){3}$/.test(host)
  );
}

/**
 * The options of {@link createConversions} that are checked by {@link checkConversionsOptions}, by
 * name; adapters add their own keys to this list when they pass options through.
 *
 * @example
 * CONVERSIONS_OPTION_NAMES.includes('consent'); // true
 */
export const CONVERSIONS_OPTION_NAMES = [
  'pixelId',
  'apiKey',
  'endpoint',
  'allowInsecureEndpoint',
  'consent',
  'pixel',
  'cookie',
  'defaultCountry',
  'defaultActionSource',
  'keepSourceUrlQuery',
  'hash',
  'batch',
  'retry',
  'outbox',
  'fetch',
  'clock',
  'random',
  'logger',
  'hooks',
  'validateOnly',
  'integrationSource',
  'debug',
] as const;

/**
 * Checks every option of {@link createConversions}; throws {@link ConversionsConfigError} naming the
 * first wrong one. `extraKeys` are the adapter's own option names (checked by the adapter);
 * `credentials: 'later'` leaves a missing pixel id or key to the first use.
 *
 * @example
 * checkConversionsOptions({ pixelId: 'px_1', apiKey: key, consent: { mode: 'opt-out' } });
 */
export function checkConversionsOptions(
  options: unknown,
  extraKeys: readonly string[] = [],
  check: { credentials?: 'now' | 'later' } = {},
): void {
  if (typeof options !== 'object' || options === null)
    throw new ConversionsConfigError('options are required: { pixelId, apiKey }');
  const given = options as Record<string, unknown>;
  // `later`: a framework that builds without secrets (next build) checks everything else now.
  const later = check.credentials === 'later';
  if (later) {
    for (const name of ['pixelId', 'apiKey'] as const) {
      if (given[name] !== undefined && (typeof given[name] !== 'string' || given[name].trim() === ''))
        throw new ConversionsConfigError(`${name} must be a non-empty string`);
    }
  } else if (typeof given.pixelId !== 'string' || given.pixelId.trim() === '')
    throw new ConversionsConfigError(
      `pixelId is required (the Pixel ID from Ads Manager; adapters and the CLI read ${ENVIRONMENT.pixelId})`,
    );
  if (!later && (typeof given.apiKey !== 'string' || given.apiKey.trim() === ''))
    throw new ConversionsConfigError(
      `apiKey is required (the Conversions API key; adapters and the CLI read ${ENVIRONMENT.apiKey})`,
    );
  const extra = Object.fromEntries(extraKeys.map((key) => [key, null]));
  checkKeys(given, '', {
    ...extra,
    pixelId: null,
    apiKey: null,
    endpoint: isUrl(() => given.allowInsecureEndpoint === true),
    allowInsecureEndpoint: isBoolean,
    consent: (value, path) => checkKeys(value, path, consentRules),
    pixel: (value, path) =>
      checkKeys(value, path, {
        scriptUrl: isUrl(() => true),
        debug: isBoolean,
      }),
    cookie: (value, path) => checkKeys(value, path, cookieRules),
    defaultCountry: (value, path) => {
      if (typeof value !== 'string' || !/^[A-Za-z]{2}$/.test(value))
        fail(path, "an ISO 3166-1 alpha-2 country code such as 'US'", value);
    },
    defaultActionSource: (value, path) => void oneOf(ACTION_SOURCES, value, path),
    keepSourceUrlQuery: isBoolean,
    hash: isFunction,
    batch: (value, path) =>
      checkKeys(value, path, {
        maxEvents: integerFrom(1, MAX_EVENTS_PER_REQUEST),
        maxBytes: integerFrom(1024),
        flushIntervalMs: durationMs,
        concurrency: integerFrom(1, 64),
      }),
    retry: (value, path) =>
      checkKeys(value, path, {
        baseDelayMs: durationMs,
        maxDelayMs: durationMs,
        timeoutMs: durationMs,
        maxAttempts: integerFrom(1),
      }),
    outbox: (value, path) => {
      for (const method of [
        'append',
        'claim',
        'ack',
        'release',
        'deadLetter',
        'size',
        'deadLetters',
        'replay',
      ]) {
        if (typeof (value as Record<string, unknown> | null)?.[method] !== 'function')
          fail(path, `an Outbox (missing ${method}())`, value);
      }
    },
    fetch: isFunction,
    clock: (value, path) => {
      if (typeof (value as { now?: unknown } | null)?.now !== 'function')
        fail(path, 'an object with now()', value);
    },
    random: isFunction,
    logger: (value, path) => {
      for (const level of ['warn', 'error']) {
        if (typeof (value as Record<string, unknown> | null)?.[level] !== 'function')
          fail(path, `a logger with ${level}()`, value);
      }
    },
    hooks: (value, path) =>
      checkKeys(value, path, {
        delivered: isFunction,
        retried: isFunction,
        deadLettered: isFunction,
        skipped: isFunction,
        halted: isFunction,
      }),
    validateOnly: isBoolean,
    integrationSource: null,
    debug: isBoolean,
  });
}

/**
 * The environment variables every adapter and the CLI read when an option is not given.
 *
 * @example
 * ENVIRONMENT.apiKey; // 'CHATGPT_ADS_API_KEY'
 */
export const ENVIRONMENT = {
  pixelId: 'CHATGPT_ADS_PIXEL_ID',
  apiKey: 'CHATGPT_ADS_API_KEY',
  endpoint: 'CHATGPT_ADS_ENDPOINT',
  debug: 'CHATGPT_ADS_DEBUG',
} as const;

/**
 * The options an environment gives ({@link ENVIRONMENT}), for runtimes that have one: pass the
 * process environment on Node, `env` in a worker. Empty values count as absent; nothing falls back to
 * the sandbox or any other default.
 *
 * @example
 * // in a worker's fetch(request, env)
 * const conversions = createConversions({ ...optionsFromEnvironment(env), consent: { mode: 'opt-in' } });
 */
export function optionsFromEnvironment(env: Readonly<Record<string, string | undefined>>): {
  pixelId?: string;
  apiKey?: string;
  endpoint?: string;
  debug?: boolean;
} {
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const pixelId = read(ENVIRONMENT.pixelId);
  const apiKey = read(ENVIRONMENT.apiKey);
  const endpoint = read(ENVIRONMENT.endpoint);
  const debug = read(ENVIRONMENT.debug);
  return {
    ...(pixelId ? { pixelId } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(debug === '1' || debug === 'true' ? { debug: true } : {}),
  };
}

/**
 * Options given in code win over the environment's; a key given as `undefined` (for example
 * `endpoint: env.X` with X unset) does not erase the environment's value.
 *
 * @example
 * withEnvironment({ endpoint: undefined, pixelId: 'px_1' }, env);
 */
export function withEnvironment<T extends object>(
  options: T,
  env: Readonly<Record<string, string | undefined>>,
): T {
  const merged: Record<string, unknown> = { ...optionsFromEnvironment(env) };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  // The key keeps the caller's property descriptor: non-enumerable where an adapter hid it.
  const key = Object.getOwnPropertyDescriptor(options, 'apiKey');
  if (key && key.value !== undefined) Object.defineProperty(merged, 'apiKey', { ...key, configurable: true });
  else if (merged.apiKey !== undefined)
    Object.defineProperty(merged, 'apiKey', {
      value: merged.apiKey,
      enumerable: false,
      writable: true,
      configurable: true,
    });
  return merged as T;
}

/**
 * Splits an adapter's options into its own keys and the client's, keeping every property's
 * descriptor (an API key an adapter made non-enumerable stays so, and is not lost as a spread
 * would lose it).
 *
 * @example
 * const { own, client } = splitOptions(options, ['nonce', 'consentFromRequest']);
 * createConversions(withEnvironment(client, env));
 */
export function splitOptions<T extends object, K extends string>(
  options: T,
  keys: readonly K[],
): { own: Partial<Record<K, unknown>>; client: Omit<T, K> } {
  const own: Partial<Record<K, unknown>> = {};
  const client: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(options ?? {})) {
    const descriptor = Object.getOwnPropertyDescriptor(options, key)!;
    if ((keys as readonly string[]).includes(key)) own[key as K] = (options as Record<string, unknown>)[key];
    else Object.defineProperty(client, key, { ...descriptor, configurable: true });
  }
  return { own, client: client as Omit<T, K> };
}
