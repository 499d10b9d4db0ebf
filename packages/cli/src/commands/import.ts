import { isUtf8 } from 'node:buffer';
import { appendFileSync, createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline, Transform } from 'node:stream';
import {
  type ActionSource,
  type ConversionInput,
  createConversions,
  type EventType,
  MAX_EVENT_AGE_MS,
  STALE_MARGIN_MS,
  toMinorUnits,
  type UserInput,
} from '@chatgpt-ads/core';
import { parse } from 'csv-parse';
import {
  type CliIO,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  clientOptions,
  loadConfig,
  parseFlags,
  requireConnection,
  sha256,
  table,
  UsageError,
} from '../shared.js';
import { parseTimestamp } from './send.js';

export const IMPORT_HELP = `Usage: chatgpt-ads import <file.csv|file.jsonl> [options]

Sends offline or CRM conversions in batches of up to 1,000. Rows older than 7 days are reported and
skipped; invalid rows are reported with their line numbers. Safe to rerun: each row's event id is
stable (its id column, else a hash of the row), and a journal of delivered ids lets a repeated or
interrupted run skip what was already delivered.

Columns (header names, case-insensitive; spaces and dashes read as _):
  type (event, event_type)            id (event_id, order_id)         timestamp (time, created_at, timestamp_ms)
  amount (value, total): decimal      currency                        email, phone: several with "|"
  external_id, first_name, last_name  city, region (state)            postal_code (zip), country
  ip (ip_address), user_agent         oppref                          action_source, source_url
  custom_event_name, plan_id          consent: "denied"/"false"/"no"/"0" skips the row

Options:
  --map <col=field,…>        read other column names, e.g. --map "Order Number=id,Total=amount"
  --type <event>             event type for rows without a type column
  --action-source <source>   default for rows without one (default: web with a source_url, else offline)
  --journal <file>           delivered-id journal (default: <file>.chatgpt-ads-journal)
  --dry-run                  read and validate every row, send nothing

${CONNECTION_HELP}`;

const FLAGS = {
  ...CONNECTION_FLAGS,
  map: { type: 'string', multiple: true },
  type: { type: 'string' },
  'action-source': { type: 'string' },
  journal: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

const FIELDS = [
  'type',
  'id',
  'timestamp',
  'amount',
  'currency',
  'email',
  'phone',
  'external_id',
  'first_name',
  'last_name',
  'city',
  'region',
  'postal_code',
  'country',
  'ip',
  'user_agent',
  'oppref',
  'action_source',
  'source_url',
  'custom_event_name',
  'plan_id',
  'consent',
] as const;
type Field = (typeof FIELDS)[number];

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
};

const key = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** Builds the column → field mapping from the defaults and `--map` overrides. */
export function columnMapping(overrides: readonly string[] = []): (column: string) => Field | undefined {
  const custom = new Map<string, Field>();
  for (const pair of overrides.flatMap((value) => value.split(','))) {
    const eq = pair.lastIndexOf('=');
    const field = key(pair.slice(eq + 1)) as Field;
    if (eq <= 0 || !FIELDS.includes(field))
      throw new UsageError(`--map expects column=field with a field of: ${FIELDS.join(', ')}`);
    custom.set(key(pair.slice(0, eq)), field);
  }
  return (column) => {
    const name = key(column);
    return (
      custom.get(name) ?? ALIASES[name] ?? (FIELDS.includes(name as Field) ? (name as Field) : undefined)
    );
  };
}

interface Row {
  line: number;
  values: Partial<Record<Field, string>>;
}

type RowOutcome = { ok: true; input: ConversionInput; consent: boolean } | { ok: false; reason: string };

/** Turns a mapped row into a conversion input; the id is the row's own or a hash of its content. */
export function rowToInput(row: Row, defaults: { type?: string; actionSource?: string }): RowOutcome {
  const v = row.values;
  const type = v.type || defaults.type;
  if (!type) return { ok: false, reason: 'no event type (add a type column or --type)' };
  let timestampMs: number | undefined;
  if (v.timestamp) {
    try {
      timestampMs = parseTimestamp(v.timestamp);
    } catch {
      return { ok: false, reason: `cannot read timestamp "${v.timestamp}"` };
    }
  }
  let amount: number | undefined;
  if (v.amount) {
    if (!v.currency) return { ok: false, reason: 'amount without currency' };
    try {
      amount = toMinorUnits(v.amount, v.currency);
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
  }
  const list = (value: string | undefined) =>
    value
      ?.split('|')
      .map((s) => s.trim())
      .filter(Boolean);
  const user: UserInput = {};
  const set = <K extends keyof UserInput>(field: K, value: UserInput[K] | undefined) => {
    if (value !== undefined && (!Array.isArray(value) || value.length > 0)) user[field] = value;
  };
  set('email', list(v.email));
  set('phone', list(v.phone));
  set('externalId', v.external_id || undefined);
  set('firstName', v.first_name || undefined);
  set('lastName', v.last_name || undefined);
  set('city', v.city || undefined);
  set('region', v.region || undefined);
  set('postalCode', v.postal_code || undefined);
  set('country', v.country || undefined);
  set('ipAddress', v.ip || undefined);
  set('userAgent', v.user_agent || undefined);

  const id = v.id || `row_${sha256(JSON.stringify(FIELDS.map((f) => v[f] ?? ''))).slice(0, 32)}`;
  const input: ConversionInput = {
    type: type as EventType,
    id,
    actionSource: (v.action_source ||
      defaults.actionSource ||
      (v.source_url ? 'web' : 'offline')) as ActionSource,
    data: {
      ...(amount !== undefined ? { amount } : {}),
      ...(v.currency ? { currency: v.currency } : {}),
      ...(v.plan_id ? { planId: v.plan_id } : {}),
    },
    user,
    ...(timestampMs !== undefined ? { timestampMs } : {}),
    ...(v.custom_event_name ? { customEventName: v.custom_event_name } : {}),
    ...(v.oppref ? { oppref: v.oppref } : {}),
    ...(v.source_url ? { sourceUrl: v.source_url } : {}),
  };
  const consent = !['denied', 'false', 'no', '0'].includes((v.consent ?? '').trim().toLowerCase());
  return { ok: true, input, consent };
}

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

async function* readRows(
  path: string,
  map: (column: string) => Field | undefined,
  counter: (bytes: number) => void,
): AsyncGenerator<Row | { line: number; error: string }> {
  const file = createReadStream(path);
  file.on('data', (chunk) => counter(chunk.length));
  const onError = () => {};
  if (/\.jsonl?$|\.ndjson$/i.test(path)) {
    const stream = pipeline(file, utf8Lines(), onError);
    let line = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      if (!text.trim()) continue;
      let object: unknown;
      try {
        object = JSON.parse(text);
      } catch {
        yield { line, error: 'not valid JSON' };
        continue;
      }
      if (!object || typeof object !== 'object' || Array.isArray(object)) {
        yield { line, error: 'not a JSON object' };
        continue;
      }
      yield { line, values: mapValues(Object.entries(object), map) };
    }
    return;
  }
  // pipeline, not pipe: an error in any stage must end the loop below instead of leaving it waiting.
  const parser = pipeline(
    file,
    utf8Lines(),
    parse({
      columns: true,
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      relax_column_count: true,
      // Reported through 'skip' instead of destroying the stream, which would drop the rows already
      // parsed in the same chunk; reading still stops at the bad line (below).
      skip_records_with_error: true,
    }),
    onError,
  );
  let bad: { code?: unknown; lines?: unknown } | undefined;
  parser.on('skip', (error: { code?: unknown; lines?: unknown }) => {
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
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      // A later row is parsed only after the bad one was reported, so the check is in order.
      if (bad && info.lines >= Number(bad.lines)) break;
      yield { line: info.lines, values: mapValues(Object.entries(record), map) };
    }
  } catch (error) {
    throw isCsvError(error) ? unreadable(error) : error;
  } finally {
    file.destroy();
  }
  if (bad) throw unreadable(bad);
}

function mapValues(
  entries: Array<[string, unknown]>,
  map: (column: string) => Field | undefined,
): Row['values'] {
  const values: Row['values'] = {};
  for (const [column, value] of entries) {
    const field = map(column);
    if (field && value !== null && value !== undefined && value !== '') values[field] = String(value);
  }
  return values;
}

/**
 * Counts of one import run.
 *
 * @example
 * const summary: ImportSummary = await importFile('orders.csv', options, io);
 */
export interface ImportSummary {
  read: number;
  sent: number;
  alreadyDelivered: number;
  refused: number;
  stale: number;
  noConsent: number;
  failed: number;
  seconds: number;
  problems: Array<{ line: number; kind: 'refused' | 'stale' | 'failed'; reason: string }>;
  /** Set when reading stopped before the end of the file (a CSV syntax error, a line that is not UTF-8). */
  stoppedAt?: { line: number; reason: string };
}

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
  const config = await loadConfig(flags, io);
  const connection = flags['dry-run']
    ? { ...config, pixelId: config.pixelId ?? 'dry-run', apiKey: 'dry-run' }
    : requireConnection(config);
  const journalPath = resolve(io.cwd, flags.journal ?? `${file}.chatgpt-ads-journal`);
  const journal = new Set(
    existsSync(journalPath) ? readFileSync(journalPath, 'utf8').split('\n').filter(Boolean) : [],
  );
  const map = columnMapping(flags.map);
  const started = performance.now();
  const summary: ImportSummary = {
    read: 0,
    sent: 0,
    alreadyDelivered: 0,
    refused: 0,
    stale: 0,
    noConsent: 0,
    failed: 0,
    seconds: 0,
    problems: [],
  };
  const lineById = new Map<string, number>();
  const totalBytes = statSync(file).size;
  let bytesRead = 0;
  let lastDraw = 0;
  const draw = (force = false) => {
    if (!io.isTTY) return;
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const share = totalBytes ? bytesRead / totalBytes : 1;
    const width = 30;
    const done = Math.round(share * width);
    const rate = summary.read / Math.max((now - started) / 1000, 0.001);
    io.stderr(
      `\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(share * 100).toFixed(0).padStart(3)}%  ${summary.read.toLocaleString('en-US')} rows  ${Math.round(rate).toLocaleString('en-US')} rows/s `,
    );
  };

  let haltMessage: string | undefined;
  const conversions = createConversions(
    clientOptions(connection, io, {
      ...(flags['dry-run'] ? { validateOnly: true, fetch: async () => new Response('{}') } : {}),
      batch: { flushIntervalMs: 200, concurrency: 4 },
      retry: { maxDelayMs: 10_000 },
      hooks: {
        delivered: ({ ids }) => {
          summary.sent += ids.length;
          // Line numbers are kept only to report failures: forget those of delivered rows.
          for (const id of ids) lineById.delete(id);
          if (!flags['dry-run']) appendFileSync(journalPath, `${ids.join('\n')}\n`);
        },
        deadLettered: ({ id, reason, message }) => {
          summary.failed++;
          summary.problems.push({
            line: lineById.get(id) ?? 0,
            kind: 'failed',
            reason: `${reason}: ${message}`,
          });
        },
        halted: ({ status, message }) => {
          haltMessage = `HTTP ${status}: ${message}`;
        },
      },
    }),
  );

  // At most 256 rows being built at once: enough to overlap hashing, bounded in memory.
  let building = 0;
  let slotFreed: (() => void) | undefined;
  const staleBefore = Date.now() - MAX_EVENT_AGE_MS + STALE_MARGIN_MS;
  const handle = async (row: Row) => {
    const outcome = rowToInput(row, {
      ...(flags.type ? { type: flags.type } : {}),
      ...(flags['action-source'] ? { actionSource: flags['action-source'] } : {}),
    });
    if (!outcome.ok) {
      summary.refused++;
      summary.problems.push({ line: row.line, kind: 'refused', reason: outcome.reason });
      return;
    }
    const { input } = outcome;
    if (journal.has(input.id!)) {
      summary.alreadyDelivered++;
      return;
    }
    if (!outcome.consent) {
      summary.noConsent++;
      return;
    }
    if (input.timestampMs !== undefined && input.timestampMs < staleBefore) {
      summary.stale++;
      summary.problems.push({ line: row.line, kind: 'stale', reason: 'older than 7 days' });
      return;
    }
    lineById.set(input.id!, row.line);
    const result = await conversions.track(input, { consent: 'granted' });
    if (result.status === 'refused') {
      summary.refused++;
      summary.problems.push({
        line: row.line,
        kind: 'refused',
        reason: result.issues.map((i) => `${i.path}: ${i.message}`).join('; '),
      });
    }
  };

  try {
    for await (const row of readRows(file, map, (bytes) => {
      bytesRead += bytes;
    })) {
      summary.read++;
      if ('error' in row) {
        summary.refused++;
        summary.problems.push({ line: row.line, kind: 'refused', reason: row.error });
        continue;
      }
      building++;
      void handle(row)
        .catch((error: unknown) => {
          summary.refused++;
          summary.problems.push({ line: row.line, kind: 'refused', reason: String(error) });
        })
        .finally(() => {
          building--;
          slotFreed?.();
        });
      while (building >= 256) await new Promise<void>((resolve) => (slotFreed = resolve));
      // Keep memory flat on large files: let delivery catch up before reading further.
      if (conversions.stats().queued >= 20_000) await conversions.flush();
      if (haltMessage) break;
      draw();
    }
  } catch (error) {
    // A problem row like any other: stop reading, but deliver and report what was read before it.
    if (!(error instanceof UnreadableFile)) throw error;
    summary.stoppedAt = { line: error.line, reason: error.message };
  }
  while (building > 0) await new Promise<void>((resolve) => (slotFreed = resolve));
  const final = await conversions.shutdown({ timeoutMs: 60_000 });
  summary.failed += final.queued;
  summary.seconds = (performance.now() - started) / 1000;
  draw(true);
  if (io.isTTY) io.stderr('\n');

  printSummary(summary, io, Boolean(flags['dry-run']));
  if (summary.stoppedAt)
    io.stderr(
      `error: stopped reading at line ${summary.stoppedAt.line}: ${summary.stoppedAt.reason}; the ${summary.read.toLocaleString('en-US')} row(s) before it were processed as above\n`,
    );
  if (haltMessage)
    io.stderr(
      `error: the endpoint refused the configuration (${haltMessage}); ${final.queued} event(s) were not sent\n`,
    );
  return summary.failed > 0 || haltMessage || summary.stoppedAt ? 1 : 0;
}

function printSummary(summary: ImportSummary, io: CliIO, dryRun: boolean): void {
  const byKind = (kind: ImportSummary['problems'][number]['kind']) =>
    summary.problems.filter((p) => p.kind === kind).sort((a, b) => a.line - b.line);
  for (const kind of ['refused', 'stale', 'failed'] as const) {
    const problems = byKind(kind);
    for (const problem of problems.slice(0, 20))
      io.stderr(`${kind} line ${problem.line}: ${problem.reason}\n`);
    if (problems.length > 20) io.stderr(`… and ${problems.length - 20} more ${kind} rows\n`);
  }
  const rate = Math.round(summary.read / Math.max(summary.seconds, 0.001));
  io.stdout(
    `${table([
      ['rows', 'count'],
      ['read', summary.read],
      [dryRun ? 'valid (not sent: dry run)' : 'sent', summary.sent],
      ['already delivered (journal)', summary.alreadyDelivered],
      ['refused (invalid)', summary.refused],
      ['stale (older than 7 days)', summary.stale],
      ['no consent', summary.noConsent],
      ['failed', summary.failed],
    ])}\n${summary.read.toLocaleString('en-US')} rows in ${summary.seconds.toFixed(1)} s (${rate.toLocaleString('en-US')} rows/s)\n`,
  );
}
