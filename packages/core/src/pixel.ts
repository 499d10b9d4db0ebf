import { type DataInput, toWireData } from './build.js';
import { type ConsentMode, type ConsentState, consentAllows } from './consent.js';
import type { EventType } from './schema.js';

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
  const nonce = options.nonce ? ` nonce="${escapeAttribute(options.nonce)}"` : '';
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
      const eventOptions: Record<string, unknown> = { event_id: event.id };
      if (event.type === 'custom' && event.customEventName)
        eventOptions.custom_event_name = event.customEventName.toLowerCase();
      if (event.optOut) eventOptions.opt_out = true;
      calls.push(
        `oaiq("measure",${json(event.type)},${json(toWireData(event.type, event.data))},${json(eventOptions)});`,
      );
    }
  }
  return calls.join('');
}

// JSON that cannot close the script element or start an HTML comment inside it.
function json(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
