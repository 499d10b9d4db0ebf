// The sending side of `import`: rows in, conversions out, every row accounted for. The command runs
// one in its own thread, or one per worker thread for a large file (import-worker.ts), each given
// the rows whose ids route to it, so a repeated id still meets its first copy in one queue.
import { buildEvent, type ConversionInput, createConversions } from '@chatgpt-ads/core';
import { MAX_EVENT_AGE_MS, STALE_MARGIN_MS } from '@chatgpt-ads/core/wire';
import { FIELDS, type Field, recordToInput } from './record.js';
import { type CliConfig, clientOptions, sha256, type Unreachable, watchEndpoint } from './shared.js';

/** A row of the file: its line number and its values by field. */
export interface Row {
  line: number;
  values: Partial<Record<Field, string>>;
  /** Its event id, when the command already worked it out (to route the row): not hashed twice. */
  id?: string;
}

/** One row that was not sent, and why. */
export interface Problem {
  line: number;
  kind: 'refused' | 'stale' | 'failed';
  /** Short and stable: what the summary counts by. */
  code: string;
  reason: string;
}

/** What a row falls back on: the event type (`--type`, or a known export's) and `--action-source`. */
export interface RowDefaults {
  type?: string;
  actionSource?: string;
}

type RowOutcome =
  | { ok: true; input: ConversionInput; consent: boolean }
  | { ok: false; code: string; reason: string };

/**
 * Turns a mapped row into a conversion input; the id is the row's own or a hash of its content.
 * A refusal carries a short `code` (what the summary counts by) and the reason in words.
 *
 * @example
 * rowToInput({ line: 2, values: { id: 'o1', amount: '12.50', currency: 'USD' } }, { type: 'order_created' });
 */
export function rowToInput(row: Row, defaults: RowDefaults): RowOutcome {
  const mapped = recordToInput(row.values, defaults);
  if (!mapped.ok) return mapped;
  const input: ConversionInput = { ...mapped.input, id: mapped.input.id ?? row.id ?? rowId(row.values) };
  const v = row.values;
  const consent = !['denied', 'false', 'no', '0'].includes((v.consent ?? '').trim().toLowerCase());
  return { ok: true, input, consent };
}

/**
 * The event id a row gets: its own, else a hash of its values (so a rerun finds it in the journal).
 * The command routes rows to workers by it.
 *
 * @example
 * rowId({ id: 'o1' }); // 'o1'
 * rowId({ email: 'a@b.c', amount: '5' }); // 'row_…' (32 hex digits)
 */
export function rowId(values: Row['values']): string {
  return values.id || contentId(values);
}

const contentId = (values: Row['values']) =>
  `row_${sha256(JSON.stringify(FIELDS.map((f) => values[f] ?? ''))).slice(0, 32)}`;

/** Where a sender reports: in its own thread straight to the summary, in a worker as messages. */
export interface SenderReport {
  /** Ids the endpoint accepted (the journal records them). */
  delivered(ids: string[]): void;
  problem(problem: Problem): void;
  alreadyDelivered(): void;
  noConsent(): void;
  /** A row whose event id an earlier row of this file has, still queued: merged into it. */
  sameId(): void;
  /** The endpoint refused the configuration (a bad key, an unknown pixel): nothing more will go. */
  halted(message: string): void;
}

/** What a sender needs: where to send, the ids already delivered there, and whether this is a rehearsal. */
export interface SenderSettings {
  connection: CliConfig & { pixelId: string; apiKey: string };
  endpoint: string;
  journal: ReadonlySet<string>;
  dryRun: boolean;
  fetch: typeof fetch;
  /** Dry run: called with the first events as they would be sent. */
  preview?: (line: number, event: unknown) => void;
}

/** Milliseconds without any answer after which the endpoint counts as unreachable. */
const TIMEOUT_MS = 10_000;
/** Events a dry run prints. */
const PREVIEW = 3;

/**
 * A client with the import's delivery settings and the per-row rules: refused, already in the
 * journal, no consent, stale, or tracked (and later delivered or dead-lettered, by line).
 *
 * @example
 * const sender = createSender(settings, report);
 * await sender.handle({ line: 2, values: { id: 'o1', type: 'order_created' } }, {});
 * const notSent = await sender.finish(60_000);
 */
export function createSender(settings: SenderSettings, report: SenderReport) {
  const { connection, dryRun, journal } = settings;
  const watch = watchEndpoint(settings.fetch, settings.endpoint, TIMEOUT_MS);
  let unreachable: Unreachable | undefined;
  void watch.unreachable.then((value) => {
    unreachable = value;
  });
  let halted = false;
  // Line numbers are kept only to report failures: those of delivered rows are forgotten.
  const lineById = new Map<string, number>();
  const conversions = createConversions(
    clientOptions(
      connection,
      { fetch: settings.fetch },
      {
        ...(dryRun ? { validateOnly: true, fetch: async () => new Response('{}') } : { fetch: watch.fetch }),
        batch: { flushIntervalMs: 200, concurrency: 4 },
        retry: { maxDelayMs: 10_000, timeoutMs: TIMEOUT_MS },
        hooks: {
          delivered: ({ ids }) => {
            for (const id of ids) lineById.delete(id);
            report.delivered(ids);
          },
          deadLettered: ({ id, reason, message }) =>
            report.problem({
              line: lineById.get(id) ?? 0,
              kind: 'failed',
              code: reason,
              reason: `${reason}: ${message}`,
            }),
          halted: ({ status, message }) => {
            halted = true;
            report.halted(`HTTP ${status}: ${message}`);
          },
        },
      },
    ),
  );
  const staleBefore = Date.now() - MAX_EVENT_AGE_MS + STALE_MARGIN_MS;
  let previewed = 0;
  const refuse = (line: number, code: string, reason: string) =>
    report.problem({ line, kind: 'refused', code, reason });

  async function handle(row: Row, defaults: RowDefaults): Promise<void> {
    const outcome = rowToInput(row, defaults);
    if (!outcome.ok) return refuse(row.line, outcome.code, outcome.reason);
    const { input } = outcome;
    if (journal.has(input.id!)) return report.alreadyDelivered();
    if (!outcome.consent) return report.noConsent();
    if (input.timestampMs !== undefined && input.timestampMs < staleBefore)
      return report.problem({
        line: row.line,
        kind: 'stale',
        code: 'older than 7 days',
        reason: 'older than 7 days',
      });
    lineById.set(input.id!, row.line);
    if (settings.preview && previewed < PREVIEW) {
      const built = await buildEvent(
        input,
        { consent: 'granted' },
        { hash: sha256, ...(connection.defaultCountry ? { defaultCountry: connection.defaultCountry } : {}) },
      );
      // Counted once built: rows that cannot be events leave the preview to the next valid ones.
      if (built.ok && previewed < PREVIEW) {
        previewed++;
        settings.preview(row.line, built.event);
      }
    }
    const result = await conversions.track(input, { consent: 'granted' });
    if (result.status === 'queued' && result.duplicate) report.sameId();
    else if (result.status === 'refused')
      refuse(
        row.line,
        `invalid ${[...new Set(result.issues.map((i) => i.path.replace(/\[\d+\]/g, '[]') || 'event'))].join(', ')}`,
        result.issues.map((i) => `${i.path}: ${i.message}`).join('; '),
      );
  }

  return {
    /** Handles one row; never rejects for a row's own problem (it is reported instead). */
    handle: (row: Row, defaults: RowDefaults): Promise<void> =>
      handle(row, defaults).catch((error: unknown) => refuse(row.line, 'error', String(error))),
    /** Events waiting for delivery. */
    queued: () => conversions.stats().queued,
    /** Waits for what is queued to be delivered, or for the endpoint to turn out unreachable. */
    catchUp: () => Promise.race([conversions.flush(), watch.unreachable]),
    /** Settles when the endpoint could not be reached at all. */
    unreachable: watch.unreachable,
    /** Whether sending stopped: an unreachable endpoint or a refused configuration. */
    stopped: () => Boolean(unreachable || halted),
    /**
     * Delivers what is queued within `timeoutMs` (at once when the endpoint is unreachable) and
     * says how many events were left undelivered.
     */
    async finish(timeoutMs: number): Promise<{ notSent: number; unreachable?: Unreachable }> {
      const done = conversions.shutdown({ timeoutMs });
      await Promise.race([done, watch.unreachable]);
      const final = unreachable ? await conversions.shutdown({ timeoutMs: 0 }) : await done;
      return { notSent: final.queued, ...(unreachable ? { unreachable } : {}) };
    },
  };
}

/** A sender, as made by {@link createSender}. @example let sender: Sender; */
export type Sender = ReturnType<typeof createSender>;
