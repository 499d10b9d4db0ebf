import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect, type ParseArgsConfig, parseArgs } from 'node:util';
import { type ConversionsOptions, DEFAULT_ENDPOINT, ENVIRONMENT, isLoopbackHost } from '@chatgpt-ads/core';
import { nodeSha256 } from '@chatgpt-ads/core/node';

/**
 * Where the CLI reads and writes; tests pass their own.
 *
 * @example
 * await runCli(['send', '--help'], { stdout: (t) => out.push(t) });
 */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Draw progress bars (an interactive terminal). */
  isTTY: boolean;
  fetch: typeof fetch;
  /**
   * Colour per stream: on only for a terminal, never under `NO_COLOR` or `TERM=dumb`. Default:
   * worked out from `process.stdout`/`process.stderr` and `env`.
   */
  color?: { stdout: boolean; stderr: boolean };
  /** Asks a yes/no question on a terminal; absent when stdin is not one (then nothing is asked). */
  confirm?: (question: string) => Promise<boolean>;
  /** Stops long-running commands (`sandbox`); SIGINT/SIGTERM in the binary. */
  signal?: AbortSignal;
}

/**
 * Connection settings, from flags, then environment variables, then a `chatgpt-ads.config.*` file.
 *
 * @example
 * const config: CliConfig = { pixelId: 'px_123', endpoint: 'http://127.0.0.1:8787/v1/events' };
 */
export interface CliConfig {
  pixelId?: string;
  apiKey?: string;
  endpoint?: string;
  defaultCountry?: string;
  integrationSource?: string;
}

/** Flags every command that talks to the API accepts. */
export const CONNECTION_FLAGS = {
  'pixel-id': { type: 'string' },
  'api-key': { type: 'string' },
  endpoint: { type: 'string' },
  config: { type: 'string' },
  'default-country': { type: 'string' },
  'integration-source': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export const CONNECTION_HELP = `Connection (flags override env vars, which override chatgpt-ads.config.json|.mjs|.js):
  --pixel-id <id>            CHATGPT_ADS_PIXEL_ID (or OPENAI_ADS_PIXEL_ID)
  --api-key <key>            CHATGPT_ADS_API_KEY (or OPENAI_CONVERSIONS_API_KEY); prefer the env var: flags show up in shell history
  --endpoint <url>           CHATGPT_ADS_ENDPOINT, default https://bzr.openai.com/v1/events
  --default-country <CC>     country for phone numbers written without a country code
  --integration-source <id>  partner id sent as integration_source
  --config <file>            config file to read instead of ./chatgpt-ads.config.*
Output:
  --json                     print one JSON document on stdout instead of text (shapes in the README)`;

/** A usage error: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Flags = NonNullable<ParseArgsConfig['options']>;
type ParsedFlags<T extends Flags> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
>;

/** Parses a command's flags strictly, turning parseArgs' errors into usage errors. */
export function parseFlags<T extends Flags>(
  argv: string[],
  options: T,
  allowPositionals = false,
): ParsedFlags<T> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals }) as ParsedFlags<T>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (unknown) {
      const names = Object.keys(options).map((name) => `--${name}`);
      const guess = closest(unknown.replace(/=.*$/, ''), names);
      throw new UsageError(`unknown option ${unknown}${guess ? `. Did you mean ${guess}?` : ''}`);
    }
    if (!allowPositionals && /^Unexpected argument '([^']*)'/.test(message))
      throw new UsageError(`this command takes no arguments (got "${/'([^']*)'/.exec(message)?.[1]}")`);
    throw new UsageError(message.split('. ')[0]!.replace(/^Option '/, "option '"));
  }
}

/**
 * The candidate nearest to `input` by edit distance, if it is close enough to be a typo.
 *
 * @example
 * closest('sned', ['send', 'import']); // 'send'
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Two edits for a long word, one for a short one: beyond that the guess is noise.
  return bestDistance <= Math.min(2, Math.floor(input.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  // Damerau–Levenshtein (optimal string alignment): a swap of two neighbours ("sedn") is one typo.
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(
        rows[i - 1]![j]! + 1,
        row[j - 1]! + 1,
        rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

const CONFIG_FILES = ['chatgpt-ads.config.json', 'chatgpt-ads.config.mjs', 'chatgpt-ads.config.js'];

/** Reads flags, environment and config file, in that order of precedence. */
export async function loadConfig(flags: Record<string, unknown>, io: CliIO): Promise<CliConfig> {
  const file = await readConfigFile(typeof flags.config === 'string' ? flags.config : undefined, io.cwd);
  const pick = (flag: string, env: string | undefined, fromFile: unknown): string | undefined => {
    const value =
      typeof flags[flag] === 'string'
        ? (flags[flag] as string)
        : env || (typeof fromFile === 'string' ? fromFile : undefined);
    return value?.trim() || undefined;
  };
  const config: CliConfig = {};
  // The CHATGPT_ADS_* names are the ones the library reads; the OPENAI_* ones are kept for setups
  // written before.
  const pixelId = pick(
    'pixel-id',
    io.env[ENVIRONMENT.pixelId]?.trim() || io.env.OPENAI_ADS_PIXEL_ID,
    file.pixelId,
  );
  const apiKey = pick(
    'api-key',
    io.env[ENVIRONMENT.apiKey]?.trim() || io.env.OPENAI_CONVERSIONS_API_KEY,
    file.apiKey,
  );
  const endpoint = pick('endpoint', io.env.CHATGPT_ADS_ENDPOINT, file.endpoint);
  const defaultCountry = pick('default-country', io.env.CHATGPT_ADS_DEFAULT_COUNTRY, file.defaultCountry);
  const integrationSource = pick('integration-source', undefined, file.integrationSource);
  if (pixelId) config.pixelId = pixelId;
  if (apiKey) config.apiKey = apiKey;
  if (endpoint) config.endpoint = endpoint;
  if (defaultCountry) config.defaultCountry = defaultCountry;
  if (integrationSource) config.integrationSource = integrationSource;
  return hideApiKey(config, apiKey);
}

/**
 * Puts `apiKey` on `target` as a non-enumerable property and makes `JSON.stringify` and
 * `util.inspect` show `[redacted]`, so printing or logging the object never shows the key.
 *
 * @example
 * const config = hideApiKey({ pixelId: 'px_1' }, 'sk_live_…');
 * config.apiKey;           // 'sk_live_…'
 * JSON.stringify(config);  // '{"pixelId":"px_1","apiKey":"[redacted]"}'
 */
export function hideApiKey<T extends object>(target: T, apiKey: string | undefined): T & { apiKey?: string } {
  const hidden = target as T & { apiKey?: string };
  delete hidden.apiKey;
  if (apiKey !== undefined)
    Object.defineProperty(hidden, 'apiKey', {
      value: apiKey,
      enumerable: false,
      writable: true,
      configurable: true,
    });
  const shown = () => ({ ...hidden, ...(apiKey !== undefined ? { apiKey: '[redacted]' } : {}) });
  Object.defineProperty(hidden, 'toJSON', { value: shown, enumerable: false, configurable: true });
  Object.defineProperty(hidden, inspect.custom, {
    value: (_depth: number, options: object) => inspect(shown(), options),
    enumerable: false,
    configurable: true,
  });
  return hidden;
}

async function readConfigFile(explicit: string | undefined, cwd: string): Promise<Record<string, unknown>> {
  const path = explicit
    ? resolve(cwd, explicit)
    : CONFIG_FILES.map((name) => join(cwd, name)).find((p) => existsSync(p));
  if (!path) return {};
  if (!existsSync(path)) throw new UsageError(`config file not found: ${path}`);
  if (path.endsWith('.json')) {
    const text = readFileSync(path, 'utf8');
    try {
      return JSON.parse(text);
    } catch {
      // The parser's own message quotes the text around the error, which may be the key itself.
      const { line, column } = position(text, jsonErrorOffset(text));
      throw new UsageError(`config file ${path} is not valid JSON (line ${line}, column ${column})`);
    }
  }
  try {
    const loaded = await import(pathToFileURL(path).href);
    return (loaded.default ?? loaded) as Record<string, unknown>;
  } catch (error) {
    // Messages such as "sk_live_… is not defined" would print the file's content: name the place only.
    const at = new RegExp(`${escapeRegExp(pathToFileURL(path).href)}:(\\d+)(?::(\\d+))?`).exec(
      String((error as Error)?.stack ?? ''),
    );
    const where = at ? ` (line ${at[1]}${at[2] ? `, column ${at[2]}` : ''})` : '';
    const kind = error instanceof Error ? error.name : 'error';
    throw new UsageError(`config file ${path} could not be loaded: ${kind}${where}`);
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/**
 * Where a JSON text first goes wrong: a small recursive-descent check, so the error can be placed by
 * line and column without quoting the text (JSON.parse's message quotes it and gives no line).
 */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (text[i] !== '"') fail();
    i++;
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) fail();
    i += match![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return text.length;
  } catch (offset) {
    return typeof offset === 'number' ? offset : 0;
  }
}

/** Requires what sending needs, with a message that says where to set it. */
export function requireConnection(
  config: CliConfig,
): Required<Pick<CliConfig, 'pixelId' | 'apiKey'>> & CliConfig {
  const missing = [];
  if (!config.pixelId) missing.push(`the pixel id (--pixel-id or ${ENVIRONMENT.pixelId})`);
  if (!config.apiKey) missing.push(`the Conversions API key (${ENVIRONMENT.apiKey})`);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(' and ')}`);
  checkEndpoint(config.endpoint);
  return config as Required<Pick<CliConfig, 'pixelId' | 'apiKey'>> & CliConfig;
}

/** Renders rows as an aligned plain-text table. */
export function table(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((row) =>
    row.map((cell) => (typeof cell === 'number' ? cell.toLocaleString('en-US') : cell)),
  );
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) =>
          typeof rows[0]![column] === 'number' || /^[\d,.]+$/.test(cell)
            ? cell.padStart(widths[column]!)
            : cell.padEnd(widths[column]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** SHA-256 hex: core's Node hash (synchronous, far cheaper per call than Web Crypto). */
export const sha256 = nodeSha256;

/** Client options from the connection settings. Commands report outcomes themselves, so the client logs nothing. */
export function clientOptions(
  connection: CliConfig & { pixelId: string; apiKey: string },
  io: Pick<CliIO, 'fetch'>,
  extra: Partial<Omit<ConversionsOptions, 'apiKey'>> = {},
): ConversionsOptions {
  return hideApiKey(
    {
      pixelId: connection.pixelId,
      apiKey: connection.apiKey,
      ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
      ...(connection.defaultCountry ? { defaultCountry: connection.defaultCountry } : {}),
      ...(connection.integrationSource ? { integrationSource: connection.integrationSource } : {}),
      fetch: io.fetch,
      // No hash option: core's own on Node is this same node:crypto one, and a hash passed in has
      // every digest checked against the API's rule (a regular expression per value, per row).
      logger: { warn: () => {}, error: () => {} },
      // Merged here, not spread by the caller: a spread would drop the non-enumerable key.
      ...extra,
    },
    connection.apiKey,
  ) as ConversionsOptions;
}

/**
 * Refuses an endpoint that cannot work before anything is sent: not a URL, not http(s), or plain
 * http to another machine (the key would travel in clear). A usage error, like any other bad flag.
 *
 * @example
 * checkEndpoint('http://127.0.0.1:8787/v1/events'); // fine
 * checkEndpoint('127.0.0.1:8787');                   // throws UsageError
 */
export function checkEndpoint(endpoint: string | undefined): void {
  if (endpoint === undefined) return;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(
      `--endpoint "${endpoint}" is not a URL: give the full address, e.g. http://127.0.0.1:8787/v1/events`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UsageError(`--endpoint must be an http(s) URL (got ${url.protocol})`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    throw new UsageError(
      `--endpoint ${url.origin} is plain http to another machine: the API key would travel in clear; use https or a loopback address`,
    );
}

/** The endpoint the commands send to when none is configured. */
export const endpointOf = (config: CliConfig): string => config.endpoint ?? DEFAULT_ENDPOINT;

/**
 * Styling for one output stream: plain text unless that stream is a terminal and `NO_COLOR` is unset.
 *
 * @example
 * const c = paint(io, 'stderr');
 * io.stderr(`${c.red('error:')} the endpoint refused the key\n`);
 */
export function paint(io: CliIO, stream: 'stdout' | 'stderr') {
  const on = io.color?.[stream] ?? false;
  const wrap = (open: number, close: number) => (text: string) =>
    on ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/**
 * Whether colour is wanted on a stream: only on a terminal, and never when `NO_COLOR` is set to
 * anything non-empty (https://no-color.org) or `TERM` is `dumb`.
 *
 * @example
 * colorWanted(process.stdout.isTTY, process.env); // false when piped
 */
export function colorWanted(isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean {
  return Boolean(isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** Prints one JSON document (the `--json` output) on stdout. */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Why the endpoint could not be reached: the system's code and what it usually means. */
export interface Unreachable {
  endpoint: string;
  code?: string;
  cause: string;
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens there (is the sandbox running?)',
  ENOTFOUND: 'host not found: check the host name',
  EAI_AGAIN: 'DNS lookup failed: no network or no DNS server',
  ECONNRESET: 'connection reset by the server or a proxy',
  EHOSTUNREACH: 'host unreachable: no route to it',
  ENETUNREACH: 'network unreachable: no network',
  ETIMEDOUT: 'connection timed out: a firewall may be dropping it',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out: a firewall may be dropping it',
  UND_ERR_SOCKET: 'the connection closed before an answer',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate is for another host',
};

/** The innermost message of fetch's wrapped error ("fetch failed" says nothing). */
function innerMessage(error: unknown): string {
  let current = error as { message?: unknown; cause?: unknown } | undefined;
  while (current?.cause && typeof current.cause === 'object') current = current.cause as typeof current;
  return String(current?.message ?? error);
}

/** Reads the system error code out of fetch's wrapped error (and Node's AggregateError for dual-stack hosts). */
function errorCode(error: unknown): string | undefined {
  for (
    let current = error as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0;
    current && depth < 4;
    depth++
  ) {
    if (typeof current.code === 'string') return current.code;
    const inner = Array.isArray(current.errors) ? current.errors[0] : undefined;
    current = (current.cause ?? inner) as typeof current;
  }
  return undefined;
}

/**
 * Wraps `fetch` so the first request that gets no answer at all (refused, unknown host, timeout)
 * settles `unreachable` with the cause, instead of the client quietly retrying for a minute. Once the
 * endpoint has answered anything, later network errors are left to the client's retries.
 *
 * @example
 * const watch = watchEndpoint(fetch, 'http://127.0.0.1:9/v1/events', 10_000);
 * const stopped = await Promise.race([conversions.flush(), watch.unreachable]);
 */
export function watchEndpoint(base: typeof fetch, endpoint: string, timeoutMs: number) {
  let answered = false;
  let settle!: (value: Unreachable) => void;
  const unreachable = new Promise<Unreachable>((resolve) => {
    settle = resolve;
  });
  const responses: unknown[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    try {
      const response = await base(input, init);
      answered = true;
      if (response.ok)
        responses.push(
          await response
            .clone()
            .json()
            .catch(() => undefined),
        );
      return response;
    } catch (error) {
      if (!answered) {
        const code = errorCode(error);
        const timedOut = init?.signal?.aborted === true;
        settle({
          endpoint,
          ...(code ? { code } : {}),
          cause: timedOut
            ? `no answer within ${Math.round(timeoutMs / 1000)} s`
            : code
              ? `${CAUSES[code] ?? innerMessage(error)} (${code})`
              : innerMessage(error),
        });
      }
      throw error;
    }
  };
  return {
    fetch: wrapped,
    unreachable,
    /** The parsed JSON bodies of the successful answers, in order. */
    responses,
  };
}

/** The line that says an endpoint could not be reached, naming it and the cause. */
export const unreachableMessage = (u: Unreachable): string => `cannot reach ${u.endpoint}: ${u.cause}`;
