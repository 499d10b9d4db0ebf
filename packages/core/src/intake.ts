import { buildEvent, type ConversionInput } from './build.js';
import type { ResolvedOptions } from './config.js';
import { appDecision, consentAllows } from './consent.js';
import type { Ledger } from './ledger.js';
import type { OutboxRecord } from './outbox.js';
import type { Reporter } from './report.js';
import type { RequestContext } from './request.js';
import type { Issue, WireEvent } from './schema.js';

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
 * Options of one `track` call.
 *
 * @example
 * await conversions.track(input, context, { transaction: pgClient });
 */
export interface TrackOptions {
  /** The app's transaction handle, passed to the outbox's `append`. */
  transaction?: unknown;
}

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
// At most three bytes per UTF-16 unit, so a string of up to a third of this always fits. Bodies are
// a few hundred bytes; the buffer grows to a cap and larger strings get one of their own.
const SCRATCH_CAP = 64 * 1024;
let scratch = new Uint8Array(4096);

/**
 * The UTF-8 size of a string, as `TextEncoder` would write it (a lone surrogate as U+FFFD, 3 bytes).
 * An event body is measured on every track: encoding into a reused buffer is several times faster
 * than counting code units in JavaScript.
 *
 * @example
 * utf8Length('é'); // 2
 */
export function utf8Length(text: string): number {
  const needed = text.length * 3;
  if (needed > scratch.length) {
    if (needed > SCRATCH_CAP) return encoder.encodeInto(text, new Uint8Array(needed)).written;
    scratch = new Uint8Array(SCRATCH_CAP);
  }
  return encoder.encodeInto(text, scratch).written;
}

/**
 * The way in: consent gate → build → size check → dedup key → append. `track` never throws: any
 * input and context get a status, and the ledger and the log say why.
 *
 * @example
 * const intake = new Intake(settings, ledger, report, () => loop.queued());
 * await intake.track({ type: 'lead_created' }, { consent: 'granted' });
 */
export class Intake {
  readonly #settings: ResolvedOptions;
  readonly #ledger: Ledger;
  readonly #report: Reporter;
  readonly #onQueued: () => void;
  #accepting = true;

  constructor(settings: ResolvedOptions, ledger: Ledger, report: Reporter, onQueued: () => void) {
    this.#settings = settings;
    this.#ledger = ledger;
    this.#report = report;
    this.#onQueued = onQueued;
  }

  /** Refuses every later track with `closed`. */
  close(): void {
    this.#accepting = false;
  }

  async track(
    input: ConversionInput,
    context?: RequestContext,
    options?: TrackOptions,
  ): Promise<TrackResult> {
    try {
      return await this.#take(input, context, options?.transaction);
    } catch (error) {
      return this.#refuse(
        [{ path: '', code: 'not_object', message: `the input could not be read (${errorName(error)})` }],
        undefined,
      );
    }
  }

  async #take(
    input: ConversionInput,
    context: RequestContext | undefined,
    transaction: unknown,
  ): Promise<TrackResult> {
    if (!this.#accepting)
      return this.#refuse([{ path: '', code: 'closed', message: 'the client is shut down' }], input?.type);
    const skipped = this.#consentGate(context);
    if (skipped) return skipped;
    const built = await buildEvent(input, context, {
      ...this.#settings.build,
      now: this.#settings.clock.now(),
    });
    if (!built.ok) return this.#refuse(built.issues, input?.type);
    const { warnings } = built;
    for (const warning of warnings)
      this.#report.explain(
        `left-out:${warning.code}`,
        `left out ${warning.path} (${warning.code}): ${warning.message}`,
      );
    const record = this.#record(built.event);
    if (!('key' in record)) return this.#refuse(record.issues, input.type);
    const appended = await this.#append(record, transaction);
    if (typeof appended === 'object') return this.#refuse(appended, input.type);
    if (appended === 'full')
      return this.#refuse(
        [{ path: '', code: 'queue_full', message: 'the outbox is full; the event was not accepted' }],
        input.type,
      );
    if (appended === 'duplicate') {
      this.#ledger.count('deduplicated');
      return { status: 'queued', id: record.id, warnings, duplicate: true };
    }
    this.#ledger.accept(record);
    if (this.#settings.debug)
      this.#report.debug(`queued ${built.event.type} ${record.id} (${record.bytes} bytes)`);
    this.#onQueued();
    return { status: 'queued', id: record.id, warnings };
  }

  #consentGate(context: RequestContext | undefined): TrackResult | undefined {
    const { mode } = this.#settings;
    const consent = appDecision(readConsent(context)) ?? { state: 'unknown', source: 'none' };
    if (consentAllows(mode, consent.state)) return undefined;
    this.#ledger.skip(consent.source);
    this.#report.hook('skipped', { reason: 'consent', source: consent.source, state: consent.state });
    this.#report.explain(
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

  /** The event as the outbox keeps it, or why it cannot be sent at all. */
  #record(event: WireEvent): OutboxRecord | { issues: Issue[] } {
    let body: string;
    try {
      body = JSON.stringify(event);
    } catch (error) {
      const message = `the event cannot be written as JSON (${errorName(error)})`;
      return { issues: [{ path: 'data', code: 'not_serializable', message }] };
    }
    const bytes = utf8Length(body);
    const { envelopeStart, batch, clock, pixelId } = this.#settings;
    if (bytes + envelopeStart.length + 2 > batch.maxBytes) {
      const message = `the event is ${bytes} bytes; batch.maxBytes is ${batch.maxBytes}`;
      return { issues: [{ path: '', code: 'event_too_large', message }] };
    }
    const now = clock.now();
    return {
      key: dedupKey(pixelId, event),
      id: event.id,
      body,
      bytes,
      timestampMs: event.timestamp_ms,
      acceptedAt: now,
      attempts: 0,
    };
  }

  /** The outbox's answer, or the issue that says why it could not store the event. */
  async #append(
    record: OutboxRecord,
    transaction: unknown,
  ): Promise<'appended' | 'duplicate' | 'full' | Issue[]> {
    try {
      return await this.#settings.outbox.append(
        record,
        transaction === undefined ? undefined : { transaction },
      );
    } catch (error) {
      this.#report.error(`outbox append failed: ${String(error)}`);
      const reason = error instanceof Error ? error.message : errorName(error);
      return [
        { path: '', code: 'outbox_error', message: `the outbox could not store the event (${reason})` },
      ];
    }
  }

  #refuse(issues: Issue[], type: unknown): TrackResult {
    this.#ledger.count('refused');
    const codes = [...new Set(issues.map((issue) => issue.code))].join(', ');
    this.#report.explain(
      `refused:${codes}`,
      `refused ${typeof type === 'string' ? type : 'a conversion'} (${codes}): nothing was queued; ` +
        "the result's issues name each field to fix",
    );
    return { status: 'refused', issues };
  }
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
