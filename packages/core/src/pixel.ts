import { type DataInput, toWireData } from './build.js';
import { type ConsentMode, type ConsentState, consentAllows } from './consent.js';
import {
  APP_EVENT_TYPES,
  type DataShape,
  EVENT_TYPES,
  type EventType,
  type IssueCode,
  type WireData,
} from './schema.js';
import { checkCustomEventName, isPlainObject } from './validate.js';

/** The OpenAI pixel script. @example PIXEL_SCRIPT_URL; // 'https://bzrcdn.openai.com/sdk/oaiq.min.js' */
export const PIXEL_SCRIPT_URL = 'https://bzrcdn.openai.com/sdk/oaiq.min.js';

/**
 * Options of {@link renderPixel}.
 *
 * @example
 * renderPixel({ pixelId: 'px_123', consent: 'granted', event: { type: 'lead_created', id: 'lead_42' } });
 */
export interface PixelOptions {
  pixelId: string;
  /** The visitor's consent; without it the pixel is told `consent(false)` before `init` and measures nothing. */
  consent: ConsentState;
  /** Consent mode. Default `opt-in`. */
  mode?: ConsentMode;
  /** The conversion to measure; `id` becomes the pixel's `event_id` so pixel and server pair. */
  event?: {
    type: Exclude<EventType, 'app_installed' | 'app_opened'>;
    id: string;
    customEventName?: string;
    optOut?: boolean;
    data?: DataInput;
  };
  /** CSP nonce of this response, put on the `<script>` tag. */
  nonce?: string;
  /** Script URL; point it at the sandbox's stand-in pixel in tests. Default {@link PIXEL_SCRIPT_URL}. */
  scriptUrl?: string;
  /** Log pixel activity to the browser console (testing only). */
  debug?: boolean;
  /** Told which server-only fields were left out of the pixel's copy (the server event keeps them). */
  onDropped?: (paths: string[]) => void;
}

/**
 * Thrown by {@link renderPixel} for an event the pixel would reject outright (a `custom` event
 * without a valid name): a programming error, caught in development, never a quiet empty snippet.
 *
 * @example
 * try { renderPixel({ pixelId: 'px', consent: 'granted', event: { type: 'custom', id: 'e1' } }); }
 * catch (e) { e instanceof PixelEventError && e.code; } // 'custom_event_name_required'
 */
export class PixelEventError extends TypeError {
  override readonly name = 'PixelEventError';
  constructor(
    readonly code: IssueCode,
    message: string,
  ) {
    super(message);
  }
}

// What the pixel's eventData accepts per shape (OpenAI's supported-events page): narrower than
// the server's data.
const PIXEL_DATA_FIELDS: Readonly<Record<DataShape, readonly string[]>> = {
  contents: ['type', 'amount', 'currency', 'contents'],
  customer_action: ['type', 'amount', 'currency'],
  plan_enrollment: ['type', 'amount', 'currency', 'contents', 'plan_id'],
  custom: ['type', 'plan_id', 'amount', 'currency', 'contents'],
};
const PIXEL_CONTENT_FIELDS = ['id', 'name', 'content_type', 'quantity', 'amount', 'currency'];

/**
 * The pixel's `eventData` for an event: the server's data less what the pixel does not accept
 * (`group_id`, `variant_dict`, free-form keys), with the paths it left out.
 *
 * @example
 * pixelEventData('order_created', { contents: [{ id: 'sku_1', groupId: 'g1' }] });
 * // { data: { type: 'contents', contents: [{ id: 'sku_1' }] }, dropped: ['data.contents[0].group_id'] }
 */
export function pixelEventData(
  type: EventType,
  input: DataInput | undefined,
): { data: WireData; dropped: string[] } {
  const wire = toWireData(type, isPlainObject(input) ? input : undefined);
  const allowed = PIXEL_DATA_FIELDS[wire.type];
  const data: WireData = { type: wire.type };
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(wire)) {
    if (key === 'type') continue;
    if (!allowed.includes(key)) dropped.push(`data.${key}`);
    else if (key === 'contents' && Array.isArray(value)) {
      data.contents = value.map((item, index) => {
        if (!isPlainObject(item)) return item;
        const kept: Record<string, unknown> = {};
        for (const [field, fieldValue] of Object.entries(item)) {
          if (PIXEL_CONTENT_FIELDS.includes(field)) kept[field] = fieldValue;
          else dropped.push(`data.contents[${index}].${field}`);
        }
        return kept;
      });
    } else data[key] = value;
  }
  return { data, dropped };
}

/**
 * Renders the `oaiq` loader, `init`, the consent state and (optionally) one `measure` call as an
 * inline `<script>` with every value escaped for HTML script context.
 *
 * @example
 * const html = renderPixel({
 *   pixelId: 'px_123', consent: 'granted', nonce: res.locals.cspNonce,
 *   event: { type: 'order_created', id: 'order_1001', data: { amount: 12999, currency: 'USD' } },
 * });
 * // <script nonce="…">(function(w,d,u){…})(…);oaiq("init",{"pixelId":"px_123"});oaiq("measure","order_created",…,{"event_id":"order_1001"});</script>
 */
export function renderPixel(options: PixelOptions): string {
  const nonce =
    typeof options.nonce === 'string' && options.nonce ? ` nonce="${escapeAttribute(options.nonce)}"` : '';
  return `<script${nonce}>${renderPixelCode(options)}</script>`;
}

/**
 * The JavaScript inside {@link renderPixel}'s `<script>`, for frameworks that render the tag
 * themselves (a React server component's `<script nonce dangerouslySetInnerHTML>`). Safe to inline.
 *
 * @example
 * const code = renderPixelCode({ pixelId: 'px_123', consent: 'granted', event: { type: 'lead_created', id: 'lead_42' } });
 */
export function renderPixelCode(options: Omit<PixelOptions, 'nonce'>): string {
  try {
    return pixelCode(options);
  } catch (error) {
    if (error instanceof PixelEventError) throw error;
    throw new PixelEventError(
      'not_object',
      `the pixel event could not be read (${(error as Error)?.name ?? typeof error})`,
    );
  }
}

function pixelCode(options: Omit<PixelOptions, 'nonce'>): string {
  if (!(EVENT_NAMES_FOR_PIXEL as readonly unknown[]).includes(options.event?.type ?? 'page_viewed'))
    throw new PixelEventError('type_invalid', `the pixel measures only ${EVENT_NAMES_FOR_PIXEL.join(', ')}`);
  const allowed = consentAllows(options.mode ?? 'opt-in', options.consent);
  const calls: string[] = [];
  // Our own queue stub; the SDK drains `oaiq.q` when it loads.
  calls.push(
    `(function(w,d,u){if(w.oaiq)return;var o=function(){o.q.push(arguments)};o.q=[];w.oaiq=o;` +
      `var s=d.createElement("script");s.async=true;s.src=u;var f=d.getElementsByTagName("script")[0];` +
      `if(f&&f.parentNode)f.parentNode.insertBefore(s,f);else d.head.appendChild(s)})(window,document,${json(options.scriptUrl ?? PIXEL_SCRIPT_URL)});`,
  );
  // Where consent is required, consent(false) must come before init.
  if (!allowed) calls.push('oaiq("consent",false);');
  calls.push(
    `oaiq("init",${json({ pixelId: options.pixelId, ...(options.debug ? { debug: true } : {}) })});`,
  );
  if (allowed) {
    if (options.consent === 'granted') calls.push('oaiq("consent",true);');
    const event = options.event;
    if (event) {
      if (typeof event.id !== 'string' || event.id === '')
        throw new PixelEventError(
          'id_required',
          'the pixel event needs its id (the server event id) as a string',
        );
      const eventOptions: Record<string, unknown> = { event_id: event.id };
      if (event.type === 'custom') {
        const name = checkCustomEventName(event.customEventName);
        if (!name.ok) throw new PixelEventError(name.code, `pixel custom event: ${name.message}`);
        eventOptions.custom_event_name = name.value;
      }
      if (event.optOut) eventOptions.opt_out = true;
      const { data, dropped } = pixelEventData(event.type, event.data);
      if (dropped.length > 0) options.onDropped?.(dropped);
      calls.push(`oaiq("measure",${json(event.type)},${json(data)},${json(eventOptions)});`);
    }
  }
  return calls.join('');
}

const EVENT_NAMES_FOR_PIXEL = EVENT_TYPES.filter((type) => !APP_EVENT_TYPES.includes(type));

// JSON that cannot close the script element or start an HTML comment inside it.
function json(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'null';
  } catch (error) {
    throw new PixelEventError(
      'not_serializable',
      `a pixel value cannot be written as JSON (${(error as Error).name})`,
    );
  }
  return text
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
