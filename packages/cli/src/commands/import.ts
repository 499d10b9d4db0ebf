import { isUtf8 } from 'node:buffer';
import {
  accessSync,
  appendFileSync,
  closeSync,
  constants,
  createReadStream,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline, Transform } from 'node:stream';
import { ConversionsConfigError, checkConversionsOptions } from '@chatgpt-ads/core';
import { parse } from 'csv-parse';
import { startPool, workerFileFound } from '../import-pool.js';
import { createSender, type Problem, type Row, type RowDefaults, rowToInput } from '../import-sender.js';
import { FIELDS, type Field } from '../record.js';
import {
  type CliIO,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  checkEndpoint,
  clientOptions,
  closest,
  endpointOf,
  loadConfig,
  paint,
  parseFlags,
  printJson,
  requireConnection,
  sha256,
  table,
  type Unreachable,
  UsageError,
  unreachableMessage,
} from '../shared.js';

export const IMPORT_HELP = `Usage: chatgpt-ads import <file.csv|file.jsonl> [options]

Sends offline or CRM conversions in batches of up to 1,000. Rows older than 7 days are reported and
skipped; invalid rows are reported with their line numbers and counted by reason. Safe to rerun:
each row's event id is stable (its id column, else a hash of the row), and a journal of the ids
delivered to each endpoint and pixel lets a repeated or interrupted run skip what was already
delivered there (a rehearsal into the sandbox never makes the real import skip anything).

Columns (header names, case-insensitive; spaces, dashes and brackets read as _):
  type (event, event_type)            id (event_id, order_id)         timestamp (time, created_at, timestamp_ms)
  amount (value, total): decimal      currency                        email, phone (and every identifier): several with "|"
  external_id, first_name, last_name  city, region (state)            postal_code (zip), country
  ip (ip_address), user_agent         oppref                          action_source, source_url
  custom_event_name, plan_id          consent: "denied"/"false"/"no"/"0" skips the row
Exports read as they are:
  Shopify orders   Name/Id, Email, Total, Currency, Created at, Phone, Billing Zip/City/Province/Country
                   (type order_created; further line-item rows of an order are skipped)
  Stripe payments  id, Amount, Currency, Created (UTC), Customer Email, Card Address Zip/City/State/Country
                   (type order_created; export successful payments only)
Every other column is named in a warning and ignored: map it with --map.

Options:
  --map <col=field,…>        read other column names, e.g. --map "Order Number=id,Total=amount"
  --type <event>             event type for rows without a type column
  --action-source <source>   default for rows without one (default: web with a source_url, else offline)
  --delimiter <char>         , ; or tab (default: detected from the header line)
  --journal <file>           delivered-id journal (default: <file>.chatgpt-ads-journal)
  --dry-run                  read and validate every row, print the first events as they would be
                             sent, send nothing
  --workers <n>              worker threads that build, hash and send (default: for files over 8 MB
                             on 4 cores or more, one per core but one; else 0: all in one thread)
  --strict                   exit 1 when any row is refused or stale (default: only when sending fails)
  --json                     print the summary as JSON (see the README for the shape)

${CONNECTION_HELP}`;

const FLAGS = {
  ...CONNECTION_FLAGS,
  map: { type: 'string', multiple: true },
  type: { type: 'string' },
  'action-source': { type: 'string' },
  journal: { type: 'string' },
  delimiter: { type: 'string' },
  'dry-run': { type: 'boolean' },
  workers: { type: 'string' },
  strict: { type: 'boolean' },
} as const;

const ALIASES: Record<string, Field> = {
  event: 'type',
  event_type: 'type',
  event_id: 'id',
  order_id: 'id',
  time: 'timestamp',
  created_at: 'timestamp',
  timestamp_ms: 'timestamp',
  value: 'amount',
  total: 'amount',
  state: 'region',
  zip: 'postal_code',
  zip_code: 'postal_code',
  ip_address: 'ip',
  // Names common in CRM and spreadsheet exports.
  order_number: 'id',
  order_no: 'id',
  transaction_id: 'id',
  email_address: 'email',
  e_mail: 'email',
  phone_number: 'phone',
  created: 'timestamp',
  date: 'timestamp',
  order_date: 'timestamp',
  conversion_time: 'timestamp',
  revenue: 'amount',
  order_total: 'amount',
  grand_total: 'amount',
  postcode: 'postal_code',
  country_code: 'country',
  // Stripe's payments export.
  created_utc: 'timestamp',
  customer_email: 'email',
  card_address_zip: 'postal_code',
  card_address_city: 'city',
  card_address_state: 'region',
  card_address_country: 'country',
  // Shopify's orders export.
  billing_zip: 'postal_code',
  billing_city: 'city',
  billing_province: 'region',
  billing_country: 'country',
  billing_phone: 'phone',
};

const key = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');

function parseMap(overrides: readonly string[]): Map<string, Field> {
  const custom = new Map<string, Field>();
  for (const pair of overrides.flatMap((value) => value.split(','))) {
    if (!pair.trim()) continue;
    const eq = pair.lastIndexOf('=');
    const field = key(pair.slice(eq + 1)) as Field;
    if (eq <= 0 || !FIELDS.includes(field)) {
      const guess = eq > 0 ? closest(field, FIELDS) : undefined;
      throw new UsageError(
        `--map "${pair.trim()}": expected column=field${guess ? ` (did you mean ${guess}?)` : ''} with a field of: ${FIELDS.join(', ')}`,
      );
    }
    custom.set(key(pair.slice(0, eq)), field);
  }
  return custom;
}

/**
 * Builds the column → field mapping from the defaults and `--map` overrides.
 *
 * @example
 * const map = columnMapping(['Order Number=id']);
 * map('Order Number'); // 'id'
 * map('Created at');   // 'timestamp'
 */
export function columnMapping(overrides: readonly string[] = []): (column: string) => Field | undefined {
  const custom = parseMap(overrides);
  return (column) => {
    const name = key(column);
    return (
      custom.get(name) ?? ALIASES[name] ?? (FIELDS.includes(name as Field) ? (name as Field) : undefined)
    );
  };
}

export { rowToInput };

/** Why reading stopped before the end of the file: the rows before `line` were read. */
class UnreadableFile extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Passes bytes through unchanged and fails on the first line that is not UTF-8 (a Latin-1 or
 * Windows-1252 export), naming it: decoding it anyway would hash U+FFFD instead of the customer's
 * name or email. A newline byte never occurs inside a multi-byte UTF-8 character, so lines can be
 * checked one by one.
 */
function utf8Lines(): Transform {
  let pending: Buffer = Buffer.alloc(0);
  let lineOffset = 0;
  const check = (bytes: Buffer, final: boolean) => {
    const end = final ? bytes.length : bytes.lastIndexOf(0x0a) + 1;
    const complete = bytes.subarray(0, end);
    if (!isUtf8(complete)) {
      let start = 0;
      for (let line = lineOffset + 1; start < complete.length; line++) {
        const newline = complete.indexOf(0x0a, start);
        const stop = newline === -1 ? complete.length : newline + 1;
        if (!isUtf8(complete.subarray(start, stop)))
          throw new UnreadableFile(
            line,
            `line ${line} is not valid UTF-8 (the file looks like Latin-1 or Windows-1252): save it as UTF-8 and run the import again`,
          );
        start = stop;
      }
    }
    for (const byte of complete) if (byte === 0x0a) lineOffset++;
    pending = bytes.subarray(end);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        check(pending.length ? Buffer.concat([pending, chunk]) : chunk, false);
        done(null, chunk);
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        check(pending, true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/** A likely field for an unknown column, to fill in the `--map` hint: by a word it shares with a field or alias. */
function guessField(column: string): Field | undefined {
  const name = key(column);
  const exact = closest(name, [...FIELDS, ...Object.keys(ALIASES)]);
  if (exact) return (ALIASES[exact] ?? exact) as Field;
  for (const word of name.split('_').reverse()) {
    if (word.length < 3) continue;
    const hit = [...FIELDS, ...Object.keys(ALIASES)].find((candidate) => candidate.split('_').includes(word));
    if (hit) return (ALIASES[hit] ?? hit) as Field;
  }
  return undefined;
}

/** A column of the file and the field it feeds; the lowest rank wins when two feed one field. */
interface ColumnUse {
  column: string;
  field: Field;
  rank: number;
  convert?: (value: string) => string;
}

/**
 * How the columns of a file are read: the field each one feeds, the columns ignored, and the
 * export recognized by its header (Shopify's orders, Stripe's payments), if any.
 *
 * @example
 * planColumns(['Order Number', 'Total', 'Currency'], ['Order Number=id']).ignored; // []
 */
export interface ColumnPlan {
  uses: ColumnUse[];
  ignored: string[];
  profile?: 'shopify' | 'stripe';
}

// Stripe writes "Created (UTC)" without a zone; Date.parse would read it as local time.
const asUtc = (value: string) =>
  /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value.trim())
    ? `${value.trim().replace(' ', 'T')}Z`
    : value;

/**
 * Plans how a header is read, from `--map` pairs, field names, aliases and known exports.
 *
 * @example
 * const plan = planColumns(['Name', 'Email', 'Financial Status', 'Total', 'Currency', 'Created at'], []);
 * plan.profile; // 'shopify'
 */
export function planColumns(header: readonly string[], overrides: readonly string[] = []): ColumnPlan {
  const custom = parseMap(overrides);
  const keys = new Set(header.map(key));
  const profile =
    keys.has('financial_status') && keys.has('name')
      ? 'shopify'
      : keys.has('created_utc') && keys.has('amount')
        ? 'stripe'
        : undefined;
  const uses: ColumnUse[] = [];
  const ignored: string[] = [];
  for (const column of header) {
    const name = key(column);
    const mapped = custom.get(name);
    if (mapped) uses.push({ column, field: mapped, rank: 0 });
    else if (profile === 'shopify' && name === 'id')
      // The id @chatgpt-ads/shopify gives the same order, so a webhook copy and an import copy pair up.
      uses.push({ column, field: 'id', rank: 1, convert: (value) => `shopify_order_${value}` });
    else if (profile === 'shopify' && name === 'name') uses.push({ column, field: 'id', rank: 3 });
    else if (FIELDS.includes(name as Field)) uses.push({ column, field: name as Field, rank: 1 });
    else if (ALIASES[name])
      uses.push({
        column,
        field: ALIASES[name],
        rank: 2,
        ...(name === 'created_utc' ? { convert: asUtc } : {}),
      });
    else ignored.push(column);
  }
  uses.sort((a, b) => a.rank - b.rank);
  return { uses, ignored, ...(profile ? { profile } : {}) };
}

function mapValues(record: Record<string, unknown>, plan: ColumnPlan): Row['values'] {
  const values: Row['values'] = {};
  for (const use of plan.uses) {
    if (values[use.field] !== undefined) continue;
    const value = record[use.column];
    if (value === null || value === undefined || value === '') continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    values[use.field] = use.convert ? use.convert(text) : text;
  }
  return values;
}

/**
 * The delimiter of a CSV file, read from its header line: the most frequent of `,` `;` and tab
 * outside quotes (`,` when none occurs).
 *
 * @example
 * detectDelimiter('Order;Total;Currency\n'); // ';'
 */
export function detectDelimiter(text: string): ',' | ';' | '\t' {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const char of text.replace(/^\uFEFF/, '')) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && char in counts) counts[char as keyof typeof counts]++;
  }
  const [best, count] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0]!;
  return count > 0 ? (best as ',' | ';' | '\t') : ',';
}

function readDelimiter(flag: string | undefined, path: string): ',' | ';' | '\t' {
  if (flag !== undefined) {
    const named: Record<string, ',' | ';' | '\t'> = {
      ',': ',',
      ';': ';',
      '\t': '\t',
      '\\t': '\t',
      tab: '\t',
      comma: ',',
      semicolon: ';',
    };
    const delimiter = named[flag.toLowerCase()];
    if (!delimiter) throw new UsageError(`--delimiter must be , ; or tab (got "${flag}")`);
    return delimiter;
  }
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    return detectDelimiter(buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/** A row read from the file, or a line that could not be used as a row. */
type ReadItem = (Row & { group?: string }) | { line: number; error: string; code: string };

async function* readRows(
  path: string,
  options: {
    overrides: readonly string[];
    delimiter: ',' | ';' | '\t';
    onPlan: (plan: ColumnPlan) => void;
    counter: (bytes: number) => void;
  },
): AsyncGenerator<ReadItem> {
  const file = createReadStream(path);
  file.on('data', (chunk) => options.counter(chunk.length));
  const onError = () => {};
  if (/\.jsonl?$|\.ndjson$/i.test(path)) {
    const stream = pipeline(file, utf8Lines(), onError);
    const plans = new Map<string, ColumnPlan>();
    let line = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      if (!text.trim()) continue;
      let object: unknown;
      try {
        object = JSON.parse(text);
      } catch {
        yield { line, error: 'not valid JSON', code: 'not valid JSON' };
        continue;
      }
      if (!object || typeof object !== 'object' || Array.isArray(object)) {
        yield { line, error: 'not a JSON object', code: 'not a JSON object' };
        continue;
      }
      const keys = Object.keys(object);
      const signature = keys.join('\u0000');
      let plan = plans.get(signature);
      if (!plan) {
        plan = planColumns(keys, options.overrides);
        // Lines rarely differ in their keys; a file where every line does is not worth a cache.
        if (plans.size < 1000) plans.set(signature, plan);
        options.onPlan(plan);
      }
      yield { line, values: mapValues(object as Record<string, unknown>, plan) };
    }
    return;
  }
  let plan: ColumnPlan | undefined;
  let width = 0;
  // pipeline, not pipe: an error in any stage must end the loop below instead of leaving it waiting.
  const parser = pipeline(
    file,
    utf8Lines(),
    parse({
      columns: (header: string[]) => {
        width = header.length;
        plan = planColumns(header, options.overrides);
        options.onPlan(plan);
        return header;
      },
      delimiter: options.delimiter,
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      // Reported through 'skip' instead of destroying the stream, which would drop the rows already
      // parsed in the same chunk; reading still stops at a bad line (below), but a row with the wrong
      // number of fields is only that row's problem.
      skip_records_with_error: true,
    }),
    onError,
  );
  let bad: { code?: unknown; lines?: unknown } | undefined;
  const wrongWidth: Array<{ line: number; error: string; code: string }> = [];
  parser.on('skip', (error: { code?: unknown; lines?: unknown; record?: unknown }) => {
    if (error.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' && Array.isArray(error.record)) {
      wrongWidth.push({
        line: Number(error.lines),
        code: 'wrong column count',
        error: `has ${error.record.length} field(s) where the header has ${width} (wrong column count: a missing or extra delimiter, or an unquoted value containing one)`,
      });
      return;
    }
    bad ??= error;
  });
  // The parser's message quotes the row: name the line and the kind of problem only.
  const unreadable = (csv: { code?: unknown; lines?: unknown }) =>
    new UnreadableFile(
      Number(csv.lines),
      `line ${String(csv.lines)} cannot be read as CSV (${String(csv.code)}): fix the quoting there and run the import again`,
    );
  const isCsvError = (error: unknown): error is { code: string; lines: number } =>
    typeof (error as { code?: unknown })?.code === 'string' &&
    (error as { code: string }).code.startsWith('CSV_') &&
    typeof (error as { lines?: unknown }).lines === 'number';
  const shopify = () => plan?.profile === 'shopify' && plan.uses.find((use) => key(use.column) === 'name');
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      // A later row is parsed only after the bad one was reported, so the check is in order.
      if (bad && info.lines >= Number(bad.lines)) break;
      while (wrongWidth.length > 0 && wrongWidth[0]!.line < info.lines) yield wrongWidth.shift()!;
      const byName = shopify();
      yield {
        line: info.lines,
        values: mapValues(record, plan!),
        ...(byName ? { group: record[byName.column] ?? '' } : {}),
      };
    }
  } catch (error) {
    throw isCsvError(error) ? unreadable(error) : error;
  } finally {
    file.destroy();
  }
  for (const item of wrongWidth) if (!bad || item.line < Number(bad.lines)) yield item;
  if (bad) throw unreadable(bad);
}

/**
 * Counts of one import run.
 *
 * @example
 * const summary: ImportSummary = JSON.parse(stdoutOf('chatgpt-ads import orders.csv --json')).summary;
 */
export interface ImportSummary {
  read: number;
  sent: number;
  alreadyDelivered: number;
  /** Further rows of an order already read (Shopify writes one row per line item). */
  sameOrder: number;
  /** Rows with the event id of an earlier row still waiting to be sent: merged into it, sent once. */
  sameId: number;
  refused: number;
  stale: number;
  noConsent: number;
  failed: number;
  seconds: number;
  problems: Problem[];
  /** Delivered ids the journal could not record (a full disk): a rerun would send them again. */
  unjournaled?: number;
  /** Set when reading stopped before the end of the file (a CSV syntax error, a line that is not UTF-8). */
  stoppedAt?: { line: number; reason: string };
}

/** Files from this size get worker threads by default: below it, starting them costs more than they save. */
const WORKERS_FROM_BYTES = 8 * 2 ** 20;

/**
 * How many worker threads an import uses: `--workers`, else one per core but one for a large file on
 * four cores or more. None for a dry run (its preview is made here) or with a `fetch` given in code,
 * which threads cannot share.
 *
 * @example
 * workerCount(undefined, { dryRun: false, bytes: 100 * 2 ** 20, customFetch: false }); // one per core but this one's, from 4 cores, at most 8
 */
export function workerCount(
  flag: string | undefined,
  run: { dryRun: boolean; bytes: number; customFetch: boolean; bundled?: boolean },
): number {
  if (flag !== undefined) {
    const count = Number(flag);
    if (!/^\d+$/.test(flag.trim()) || count > 64)
      throw new UsageError(`--workers must be a whole number from 0 to 64 (got "${flag}")`);
    if (count > 0 && run.dryRun)
      throw new UsageError('--dry-run reads every row in one thread: leave out --workers');
    if (count > 0 && run.customFetch)
      throw new UsageError(
        '--workers needs the built-in fetch: a fetch given in code cannot reach worker threads',
      );
    return count;
  }
  // With fewer than four cores the workers share them with this thread and the endpoint's
  // connection: measured on two, 1.2–1.5× the rows per second for about 1.7× the peak memory.
  const cores = availableParallelism();
  if (run.dryRun || run.customFetch || run.bundled || run.bytes < WORKERS_FROM_BYTES || cores < 4) return 0;
  return Math.min(cores - 1, 8);
}

function checkJournalFolder(path: string): void {
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `cannot write the journal ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): give --journal a path in a folder you can write to`,
    );
  }
}

/** Rows of a scope in the journal are `<scope>\t<id>`: the same file sent to two endpoints or pixels keeps two lists. */
const journalScope = (endpoint: string, pixelId: string) => sha256(`${endpoint}\n${pixelId}`).slice(0, 16);

export async function importCommand(argv: string[], io: CliIO): Promise<number> {
  const { values: flags, positionals } = parseFlags(argv, FLAGS, true);
  if (flags.help) {
    io.stdout(`${IMPORT_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError('import takes one file: chatgpt-ads import <file.csv|file.jsonl>');
  const file = resolve(io.cwd, positionals[0]!);
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const json = Boolean(flags.json);
  const dryRun = Boolean(flags['dry-run']);
  const overrides = flags.map ?? [];
  parseMap(overrides);
  const isJsonLines = /\.jsonl?$|\.ndjson$/i.test(file);
  const delimiter = isJsonLines ? ',' : readDelimiter(flags.delimiter, file);
  const config = await loadConfig(flags, io);
  checkEndpoint(config.endpoint);
  const connection = dryRun
    ? { ...config, pixelId: config.pixelId ?? 'dry-run', apiKey: 'dry-run' }
    : requireConnection(config);
  const endpoint = endpointOf(connection);
  const journalPath = resolve(io.cwd, flags.journal ?? `${file}.chatgpt-ads-journal`);
  const scope = journalScope(endpoint, connection.pixelId);
  const journal = new Set<string>();
  if (existsSync(journalPath))
    for (const entry of readFileSync(journalPath, 'utf8').split('\n')) {
      const tab = entry.indexOf('\t');
      // Entries of other endpoints or pixels, and unscoped ones from older versions, do not count here.
      if (tab !== -1 && entry.slice(0, tab) === scope) journal.add(entry.slice(tab + 1));
    }
  const started = performance.now();
  const summary: ImportSummary = {
    read: 0,
    sent: 0,
    alreadyDelivered: 0,
    sameOrder: 0,
    sameId: 0,
    refused: 0,
    stale: 0,
    noConsent: 0,
    failed: 0,
    seconds: 0,
    problems: [],
  };
  const warnings: string[] = [];
  const warn = (text: string) => {
    warnings.push(text);
    if (!json) {
      clearBar();
      io.stderr(`${paint(io, 'stderr').yellow('warning:')} ${text}\n`);
    }
  };
  const ignored = new Set<string>();
  const mapped = new Map<string, Field>();
  let profile: ColumnPlan['profile'];
  let defaultType = flags.type;
  const onPlan = (plan: ColumnPlan) => {
    for (const use of plan.uses) mapped.set(use.column, use.field);
    const fresh = plan.ignored.filter((column) => !ignored.has(column));
    for (const column of fresh) ignored.add(column);
    if (plan.profile && !profile) {
      profile = plan.profile;
      defaultType ??= 'order_created';
      if (!json)
        io.stderr(
          `Reading a ${profile === 'shopify' ? 'Shopify orders' : 'Stripe payments'} export (type ${defaultType} unless a row says otherwise)\n`,
        );
    }
    if (fresh.length > 0) {
      const shown = fresh.slice(0, 12);
      const pairs = shown.slice(0, 3).map((column) => `${column}=${guessField(column) ?? '<field>'}`);
      warn(
        `ignoring ${fresh.length} column(s) not read as any field: ${shown.map((c) => `"${c}"`).join(', ')}${fresh.length > shown.length ? ` and ${fresh.length - shown.length} more` : ''}. ` +
          `Map one with --map "${pairs.join(',')}" (fields: ${FIELDS.join(', ')})`,
      );
    }
    const fields = new Set(plan.uses.map((use) => use.field));
    if (isJsonLines) return;
    if (!fields.has('id'))
      warn('no id column: each event id is a hash of its row, so the pixel and your server cannot share it');
    if (!fields.has('timestamp'))
      warn('no timestamp column: every row is sent with the time of this import as the conversion time');
  };

  const totalBytes = statSync(file).size;
  let bytesRead = 0;
  let lastDraw = 0;
  let barDrawn = false;
  const draw = (force = false) => {
    if (!io.isTTY || json) return;
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const share = totalBytes ? bytesRead / totalBytes : 1;
    const width = 30;
    const done = Math.round(share * width);
    const rate = summary.read / Math.max((now - started) / 1000, 0.001);
    // \x1b[2K clears the whole line, so a shorter bar never leaves the end of a longer one behind.
    io.stderr(
      `\r\u001b[2K[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(share * 100).toFixed(0).padStart(3)}%  ${summary.read.toLocaleString('en-US')} rows  ${Math.round(rate).toLocaleString('en-US')} rows/s`,
    );
    barDrawn = true;
  };
  function clearBar() {
    if (barDrawn) io.stderr('\r\u001b[2K');
    barDrawn = false;
  }

  let haltMessage: string | undefined;
  // A journal that cannot be written would make a rerun send everything again: refused before
  // reading when its folder is missing or read-only, and any later write error stops the import.
  if (!dryRun) checkJournalFolder(journalPath);
  let journalError: string | undefined;
  const report = {
    delivered: (ids: string[]) => {
      summary.sent += ids.length;
      if (dryRun) return;
      try {
        appendFileSync(journalPath, `${ids.map((id) => `${scope}\t${id}`).join('\n')}\n`);
      } catch (error) {
        summary.unjournaled = (summary.unjournaled ?? 0) + ids.length;
        journalError ??= (error as NodeJS.ErrnoException).code ?? String(error);
      }
    },
    problem: (problem: Problem) => {
      if (problem.kind === 'failed') summary.failed++;
      else if (problem.kind === 'stale') summary.stale++;
      else summary.refused++;
      summary.problems.push(problem);
    },
    halted: (message: string) => {
      haltMessage = message;
    },
  };
  const preview: Array<{ line: number; event: unknown }> = [];
  const settings = {
    connection,
    endpoint,
    journal,
    dryRun,
    fetch: io.fetch,
    ...(dryRun ? { preview: (line: number, event: unknown) => preview.push({ line, event }) } : {}),
  };
  try {
    checkConversionsOptions(clientOptions(connection, io));
  } catch (error) {
    if (error instanceof ConversionsConfigError) throw new UsageError(error.message);
    throw error;
  }
  const workers = workerCount(flags.workers, {
    dryRun,
    bytes: totalBytes,
    customFetch: io.fetch !== globalThis.fetch,
    bundled: !workerFileFound(),
  });
  const send = workers > 0 ? pooledSending(workers) : inThreadSending();
  const typeFlag = () => defaultType || undefined;
  const actionSourceFlag = flags['action-source'] || undefined;

  let previousGroup: string | undefined;
  let defaults: RowDefaults = {};
  let final: { notSent: number; unreachable?: Unreachable };
  try {
    try {
      for await (const row of readRows(file, {
        overrides,
        delimiter,
        onPlan,
        counter: (bytes) => {
          bytesRead += bytes;
        },
      })) {
        summary.read++;
        if ('error' in row) {
          report.problem({ line: row.line, kind: 'refused', code: row.code, reason: row.error });
          continue;
        }
        if (row.group !== undefined) {
          const same = row.group !== '' && row.group === previousGroup;
          previousGroup = row.group;
          if (same) {
            summary.sameOrder++;
            continue;
          }
        }
        // The same object while they stay the same: workers get one set per batch of rows.
        if (defaults.type !== typeFlag() || defaults.actionSource !== actionSourceFlag)
          defaults = {
            ...(typeFlag() ? { type: typeFlag() } : {}),
            ...(actionSourceFlag ? { actionSource: actionSourceFlag } : {}),
          };
        await send.row({ line: row.line, values: row.values }, defaults);
        if (send.stopped() || journalError) break;
        draw();
      }
    } catch (error) {
      // A problem row like any other: stop reading, but deliver and report what was read before it.
      if (!(error instanceof UnreadableFile)) throw error;
      summary.stoppedAt = { line: error.line, reason: error.message };
    }
    final = await send.finish(60_000);
  } finally {
    // A failed worker must not keep the process alive with its siblings.
    await send.close();
  }
  const unreachable = final.unreachable;
  summary.failed += final.notSent;
  summary.seconds = (performance.now() - started) / 1000;
  clearBar();

  // Rows handled here, at most 256 at a time: enough to overlap hashing, bounded in memory.
  function inThreadSending() {
    const sender = createSender(settings, {
      ...report,
      alreadyDelivered: () => summary.alreadyDelivered++,
      noConsent: () => summary.noConsent++,
      sameId: () => summary.sameId++,
    });
    let building = 0;
    let handed = 0;
    let slotFreed: (() => void) | undefined;
    return {
      async row(row: Row, rowDefaults: RowDefaults) {
        building++;
        handed++;
        void sender.handle(row, rowDefaults).finally(() => {
          building--;
          slotFreed?.();
        });
        while (building >= 256) await new Promise<void>((resolve) => (slotFreed = resolve));
        // Keep memory flat on large files: let delivery catch up before reading further. Asked every
        // 256 rows handed here (rows read include skipped ones), as stats() copies every counter.
        if (handed % 256 === 0 && sender.queued() >= 20_000) await sender.catchUp();
      },
      stopped: () => Boolean(haltMessage) || sender.stopped(),
      async finish(timeoutMs: number) {
        while (building > 0) await new Promise<void>((resolve) => (slotFreed = resolve));
        return sender.finish(timeoutMs);
      },
      close: async () => {},
    };
  }

  function pooledSending(count: number) {
    const pool = startPool(
      count,
      // The key is spread explicitly: the connection keeps it out of its enumerable properties.
      { connection: { ...connection, apiKey: connection.apiKey }, endpoint, journal },
      {
        ...report,
        alreadyDelivered: (n) => {
          summary.alreadyDelivered += n;
        },
        noConsent: (n) => {
          summary.noConsent += n;
        },
        sameId: (n) => {
          summary.sameId += n;
        },
      },
    );
    // The workers hold their shares of the journal now.
    journal.clear();
    return {
      row: pool.send,
      stopped: () => Boolean(haltMessage) || pool.stopped(),
      finish: pool.finish,
      close: pool.close,
    };
  }

  if (isJsonLines && !json) {
    const fields = new Set(mapped.values());
    if (!fields.has('id'))
      warn(
        'no id field in any line: each event id is a hash of its line, so the pixel and your server cannot share it',
      );
  }
  const errors: string[] = [];
  if (summary.stoppedAt)
    errors.push(
      `stopped reading at line ${summary.stoppedAt.line}: ${summary.stoppedAt.reason}; the ${summary.read.toLocaleString('en-US')} row(s) before it were processed as above`,
    );
  if (unreachable)
    errors.push(
      `${unreachableMessage(unreachable)}; nothing more was sent (${final.notSent.toLocaleString('en-US')} event(s) not delivered), the journal keeps what was, so a rerun resumes`,
    );
  if (journalError)
    errors.push(
      `could not write the journal ${journalPath} (${journalError}): ${(summary.unjournaled ?? 0).toLocaleString('en-US')} delivered id(s) are not in it, so a rerun would send them again; reading stopped there`,
    );
  if (haltMessage)
    errors.push(
      `the endpoint ${endpoint} refused the configuration (${haltMessage}); ${final.notSent} event(s) were not sent`,
    );
  const notSent = summary.refused + summary.stale;
  const failed = summary.failed > 0 || errors.length > 0 || (Boolean(flags.strict) && notSent > 0);
  if (flags.strict && notSent > 0 && errors.length === 0 && summary.failed === 0)
    errors.push(`--strict: ${notSent.toLocaleString('en-US')} row(s) were refused or stale`);

  const reasons = byReason(summary.problems);
  if (json) {
    printJson(io, {
      ok: !failed,
      dryRun,
      file,
      endpoint: dryRun ? undefined : endpoint,
      pixelId: dryRun ? undefined : connection.pixelId,
      journal: journalPath,
      delimiter: isJsonLines ? undefined : delimiter,
      format: profile ?? (isJsonLines ? 'jsonl' : 'csv'),
      columns: { mapped: Object.fromEntries(mapped), ignored: [...ignored] },
      summary: {
        read: summary.read,
        sent: summary.sent,
        alreadyDelivered: summary.alreadyDelivered,
        sameOrder: summary.sameOrder,
        sameId: summary.sameId,
        ...(summary.unjournaled ? { unjournaled: summary.unjournaled } : {}),
        refused: summary.refused,
        stale: summary.stale,
        noConsent: summary.noConsent,
        failed: summary.failed,
        seconds: Number(summary.seconds.toFixed(3)),
      },
      reasons,
      problems: summary.problems.sort((a, b) => a.line - b.line).slice(0, 1000),
      warnings,
      ...(dryRun ? { preview: preview.map((p) => (p as { event: unknown }).event) } : {}),
      ...(summary.stoppedAt ? { stoppedAt: summary.stoppedAt } : {}),
      ...(errors.length ? { error: { kind: 'failed', message: errors.join('; ') } } : {}),
    });
    return failed ? 1 : 0;
  }
  if (dryRun && preview.length > 0) {
    io.stdout(`First ${preview.length} event(s) as they would be sent (nothing was sent):\n`);
    for (const item of preview as Array<{ line: number; event: unknown }>)
      io.stdout(`line ${item.line}: ${JSON.stringify(item.event, null, 2).replace(/\n/g, '\n  ')}\n`);
    io.stdout('\n');
  }
  printSummary(summary, reasons, io, dryRun, { endpoint, pixelId: connection.pixelId, journalPath });
  if (!flags.strict && notSent > 0 && errors.length === 0)
    io.stderr(
      `${notSent.toLocaleString('en-US')} row(s) not sent (refused or stale); --strict makes that exit 1\n`,
    );
  for (const error of errors) io.stderr(`${paint(io, 'stderr').red('error:')} ${error}\n`);
  return failed ? 1 : 0;
}

function byReason(
  problems: readonly Problem[],
): Array<{ kind: Problem['kind']; code: string; count: number }> {
  const counts = new Map<string, { kind: Problem['kind']; code: string; count: number }>();
  for (const problem of problems) {
    const id = `${problem.kind}\u0000${problem.code}`;
    const entry = counts.get(id) ?? { kind: problem.kind, code: problem.code, count: 0 };
    entry.count++;
    counts.set(id, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}

function printSummary(
  summary: ImportSummary,
  reasons: ReturnType<typeof byReason>,
  io: CliIO,
  dryRun: boolean,
  where: { endpoint: string; pixelId: string; journalPath: string },
): void {
  const byKind = (kind: Problem['kind']) =>
    summary.problems.filter((p) => p.kind === kind).sort((a, b) => a.line - b.line);
  for (const kind of ['refused', 'stale', 'failed'] as const) {
    const problems = byKind(kind);
    for (const problem of problems.slice(0, 20))
      io.stderr(`${kind} line ${problem.line}: ${problem.reason}\n`);
    if (problems.length > 20) io.stderr(`… and ${problems.length - 20} more ${kind} rows\n`);
  }
  const rate = Math.round(summary.read / Math.max(summary.seconds, 0.001));
  const rows: Array<[string, number]> = [
    ['read', summary.read],
    [dryRun ? 'valid (not sent: dry run)' : 'sent', summary.sent],
    ['already delivered (journal)', summary.alreadyDelivered],
    ...(summary.sameOrder ? [['further rows of an order', summary.sameOrder] as [string, number]] : []),
    ...(summary.sameId
      ? [['same id as an earlier row (sent once)', summary.sameId] as [string, number]]
      : []),
    ['refused (invalid)', summary.refused],
    ['stale (older than 7 days)', summary.stale],
    ['no consent', summary.noConsent],
    ['failed', summary.failed],
  ];
  io.stdout(
    `${dryRun ? 'Dry run: nothing sent\n' : `Sent to ${where.endpoint} (pixel ${where.pixelId})\n`}${table([['rows', 'count'], ...rows])}\n`,
  );
  if (reasons.length > 0)
    io.stdout(
      `\nNot sent, by reason:\n${table([['reason', 'rows'], ...reasons.map((r) => [`${r.kind}: ${r.code}`, r.count] as [string, number])])}\n`,
    );
  if (summary.alreadyDelivered > 0)
    io.stdout(
      `\n${summary.alreadyDelivered.toLocaleString('en-US')} row(s) skipped: the journal ${where.journalPath} lists them as delivered to this endpoint and pixel\n`,
    );
  io.stdout(
    `${summary.read.toLocaleString('en-US')} rows in ${summary.seconds.toFixed(1)} s (${rate.toLocaleString('en-US')} rows/s)\n`,
  );
}
