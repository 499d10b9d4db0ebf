import { type ConversionInput, createEventId } from './build.js';
import type { ResolvedOptions } from './config.js';
import { appDecision, type ConsentDecision, type ConsentState, consentAllows } from './consent.js';
import { readOpprefFromUrl } from './cookies.js';
import type { Intake, TrackOptions, TrackResult } from './intake.js';
import { type PixelOptions, renderPixel, renderPixelCode } from './pixel.js';
import type { Reporter } from './report.js';
import {
  carriesClickRef,
  type IncomingRequest,
  type RequestContext,
  type RequestReading,
  readRequest,
} from './request.js';

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
 * The per-request side of a client: reads a request with the client's consent and cookie settings,
 * and binds `track` and the pixel to one event id. Adapters reach it through `conversions.forRequest`.
 *
 * @example
 * const views = requestViews(settings, report, intake);
 * const ads = views.forRequest(fromWebRequest(request));
 */
export function requestViews(
  settings: ResolvedOptions,
  report: Reporter,
  intake: Pick<Intake, 'track'>,
): {
  forRequest(incoming: IncomingRequest, options?: ForRequestOptions): RequestConversions;
  pixel(options: Omit<PixelOptions, 'pixelId'>): string;
} {
  const { mode, pixelId } = settings;

  // Why a landing's click id was not stored: said once per reason (no PII, no value).
  function explainCapture(incoming: IncomingRequest, reading: RequestReading): void {
    for (const issue of reading.refused)
      report.explain(
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
    report.explain(
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
      ...settings.pixel,
      onDropped: (paths) =>
        report.explain(
          'pixel-dropped',
          `pixel: left out ${paths.join(', ')} (server-only fields the pixel does not accept); the server event keeps them`,
        ),
      ...given,
      pixelId,
    };
  }

  // The whole reading (consent, click id, context), made when a view first needs it.
  function read(incoming: IncomingRequest, answer?: ConsentState): RequestReading {
    const decided = appDecision(answer);
    const { resolvers } = settings;
    const reading = readRequest(incoming, {
      consent: {
        mode,
        resolvers: decided && decided.state !== 'unknown' ? [() => decided, ...resolvers] : resolvers,
      },
      ...(settings.cookie ? { cookie: settings.cookie } : {}),
    });
    explainCapture(incoming, reading);
    return reading;
  }

  const shared: ViewShared = { intake, pixelSettings, read };

  function forRequest(incoming: IncomingRequest, requestOptions: ForRequestOptions = {}): RequestConversions {
    // Said now, not when the view is first read: a wrong answer must not wait for a conversion to show.
    if (requestOptions.consent !== undefined && appDecision(requestOptions.consent)?.source === 'app:invalid')
      report.explain(
        'app-consent-invalid',
        "the app's consent answer is not 'granted', 'denied' or 'unknown'; read as a denial",
      );
    return new RequestView(shared, incoming, requestOptions);
  }

  return { forRequest, pixel: (options) => renderPixel(pixelSettings(options)) };
}

interface ViewShared {
  intake: Pick<Intake, 'track'>;
  pixelSettings(given: Omit<PixelOptions, 'pixelId'>): PixelOptions;
  read(incoming: IncomingRequest, answer?: ConsentState): RequestReading;
}

const NO_COOKIES: readonly string[] = Object.freeze([]);

// One per request, page views included, so a page view pays for as little as it uses: a request with
// no click id in its URL or cookies is read (consent, context) only if `context` or `consent` is
// asked for, which a page view never does (measured: tooling/bench, page views). A
// class with its methods on the prototype costs one small object, where an object of closures cost
// five more and outlived the young generation often enough for V8 to allocate them in the old one.
// `track`, `pixel` and `pixelCode` are made when read, so `const { track } = view` keeps working.
class RequestView implements RequestConversions {
  #shared: ViewShared;
  #incoming: IncomingRequest;
  #options: ForRequestOptions;
  #reading: RequestReading | undefined;
  // Made on first use: a page view that never tracks nor renders the pixel needs no id.
  #eventId: string | undefined;

  constructor(shared: ViewShared, incoming: IncomingRequest, options: ForRequestOptions) {
    this.#shared = shared;
    this.#incoming = incoming;
    this.#options = options;
    this.#eventId = options.eventId;
    // A click id to store, cookies to expire or a refusal to report: read now, so the cookies reach
    // the response and the reasons the log. Otherwise the reading waits for a conversion, if any.
    if (carriesClickRef(incoming)) this.#read();
  }

  get context(): RequestContext {
    return this.#read().context;
  }

  get consent(): ConsentDecision {
    return this.#read().consent;
  }

  get setCookies(): readonly string[] {
    return this.#reading?.setCookies ?? NO_COOKIES;
  }

  #read(): RequestReading {
    this.#reading ??= this.#shared.read(this.#incoming, this.#options.consent);
    return this.#reading;
  }

  get eventId(): string {
    this.#eventId ??= createEventId();
    return this.#eventId;
  }

  get track(): RequestConversions['track'] {
    // The view's own defaulting runs inside track's guarantee too: any input gets a status.
    return async (input, trackOptions) => {
      let withId: ConversionInput;
      try {
        withId = { ...input, id: input?.id ?? this.eventId };
      } catch {
        withId = input;
      }
      return this.#shared.intake.track(withId, this.context, trackOptions);
    };
  }

  get pixel(): RequestConversions['pixel'] {
    return (event, pixelOptions = {}) => {
      const nonce = pixelOptions.nonce ?? this.#options.nonce?.();
      return renderPixel(
        this.#shared.pixelSettings({
          consent: this.consent.state,
          ...this.#withEventId(event),
          ...(nonce ? { nonce } : {}),
        }),
      );
    };
  }

  get pixelCode(): RequestConversions['pixelCode'] {
    return (event) =>
      renderPixelCode(
        this.#shared.pixelSettings({ consent: this.consent.state, ...this.#withEventId(event) }),
      );
  }

  #withEventId<T extends { id?: string }>(event: T | undefined) {
    return event ? { event: { ...event, id: event.id ?? this.eventId } } : {};
  }
}
