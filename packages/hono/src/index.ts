import {
  type AdapterOptions,
  adapterClient,
  type ConsentState,
  type Conversions,
  fromWebRequest,
  optionChecks,
  type RequestConversions,
} from '@chatgpt-ads/core';
import type { Context, MiddlewareHandler } from 'hono';

declare module 'hono' {
  interface ContextVariableMap {
    /** ChatGPT Ads for this request: context, consent, event id, `track` and `pixel`. */
    chatgptAds: RequestConversions;
  }
}

/**
 * The Hono `Env` the middleware sets, for apps that type their variables explicitly. Importing the
 * package already types `c.get('chatgptAds')` everywhere through `ContextVariableMap`.
 *
 * @example
 * const app = new Hono<ChatgptAdsEnv>();
 * app.post('/lead', async (c) => c.json(await c.var.chatgptAds.track({ type: 'lead_created' })));
 */
export type ChatgptAdsEnv = { Variables: { chatgptAds: RequestConversions } };

/**
 * Options of {@link chatgptAds}: the core client's options (or `conversions`, a client you made),
 * plus how to read the client IP, the app's own consent and the response's CSP nonce. `pixelId`,
 * `apiKey` and `endpoint` not given here are read from `CHATGPT_ADS_PIXEL_ID`,
 * `CHATGPT_ADS_API_KEY` and `CHATGPT_ADS_ENDPOINT` where the runtime has `process.env`.
 *
 * @example
 * const options: ChatgptAdsOptions = {
 *   consentFromRequest: (c) => (c.req.header('cookie')?.includes('site_consent=yes') ? 'granted' : undefined),
 *   clientIp: (c) => c.req.header('cf-connecting-ip'),
 * };
 */
export type ChatgptAdsOptions = AdapterOptions<{
  /** The app's own consent answer for this request; asked before cookies and headers. */
  consentFromRequest?: (c: Context) => ConsentState | undefined;
  /** The CSP nonce for the pixel's script tag. Default: `c.get('secureHeadersNonce')` (`secureHeaders`). */
  nonce?: (c: Context) => string | undefined;
  /** The visitor's IP. Default: the socket's address under `@hono/node-server`, none elsewhere. */
  clientIp?: (c: Context) => string | undefined;
}>;

/**
 * The middleware, with the client it uses.
 *
 * @example
 * const ads = chatgptAds();
 * app.use(ads);
 * await ads.conversions.shutdown();
 */
export interface ChatgptAdsMiddleware extends MiddlewareHandler<ChatgptAdsEnv> {
  readonly conversions: Conversions;
}

const ADAPTER_RULES = {
  consentFromRequest: optionChecks.function,
  nonce: optionChecks.function,
  clientIp: optionChecks.function,
};

/**
 * Hono middleware for Node (`@hono/node-server`) and Web-standard runtimes. On every request it
 * reads consent, captures `oppref` into the `__oppref` cookie (or clears attribution cookies under a
 * denial) and sets `c.var.chatgptAds`. Where the runtime has an execution context (Workers), the
 * response's conversions are sent inside `waitUntil`; on Node they are batched until `shutdown()`.
 *
 * @example
 * import { Hono } from 'hono';
 * import { chatgptAds } from '@chatgpt-ads/hono';
 *
 * const app = new Hono();
 * app.use(chatgptAds({ consent: { mode: 'opt-in' } }));
 * app.post('/checkout', async (c) => {
 *   await c.var.chatgptAds.track({ type: 'order_created', data: { amount: 12999, currency: 'USD' } });
 *   return c.html(`<head>${c.var.chatgptAds.pixel({ type: 'order_created' })}</head>`);
 * });
 */
export function chatgptAds(options: ChatgptAdsOptions = {}): ChatgptAdsMiddleware {
  const conversions = clientOf(options);
  const { consentFromRequest, nonce = defaultNonce, clientIp = nodeSocketAddress } = options ?? {};
  const middleware: MiddlewareHandler<ChatgptAdsEnv> = async (c, next) => {
    const consent = consentFromRequest?.(c);
    const ads = conversions.forRequest(fromWebRequest(c.req.raw, clientIp(c)), {
      nonce: () => nonce(c),
      ...(consent ? { consent } : {}),
    });
    c.set('chatgptAds', ads);
    // Set before the handler runs, so @hono/node-server keeps its light response path; Hono
    // carries these headers into whatever response the handler returns.
    for (const cookie of ads.setCookies) c.header('set-cookie', cookie, { append: true });
    await next();
    // A response Hono could not add them to (Response.redirect()'s headers are immutable) gets them now.
    if (ads.setCookies.length > 0) appendMissingCookies(c, ads.setCookies);
    // A worker may be stopped once the response is out: waitUntil keeps it alive for the send.
    executionContextOf(c)?.waitUntil(conversions.flush().then(() => undefined));
  };
  return Object.assign(middleware, { conversions });
}

// A typo in any option throws when the middleware is made. Options not given in code come from
// the environment where the runtime has one; core picks the runtime's SHA-256 (Web Crypto on the edge).
function clientOf(options: ChatgptAdsOptions): Conversions {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return adapterClient(options, ADAPTER_RULES, env ?? {}).conversions;
}

// After next() the response is final. Responses made by Response.redirect() or fetch() have
// immutable headers: the response is copied (Hono keeps its other headers) before adding cookies.
function appendMissingCookies(c: Context, all: readonly string[]): void {
  const present = c.res.headers.getSetCookie();
  const cookies = all.filter((cookie) => !present.includes(cookie));
  if (cookies.length === 0) return;
  try {
    for (const cookie of cookies) c.res.headers.append('set-cookie', cookie);
  } catch {
    c.res = new Response(c.res.body, c.res);
    for (const cookie of cookies) c.res.headers.append('set-cookie', cookie);
  }
}

function executionContextOf(c: Context): { waitUntil(promise: Promise<unknown>): void } | undefined {
  // @hono/node-server never passes one, and a throw caught on every request costs a Node page view
  // more than the rest of this middleware (measured: tooling/bench, Hono returning page views).
  if (nodeIncoming(c)) return undefined;
  // Hono's getter throws when the runtime passed none (Bun, Deno, tests): on every request there.
  // Without a stack trace the throw is cheaper; a page view must not pay for capturing one.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function defaultNonce(c: Context): string | undefined {
  const nonce: unknown = c.get('secureHeadersNonce' as never);
  return typeof nonce === 'string' ? nonce : undefined;
}

// @hono/node-server passes { incoming, outgoing } as the env; read it without importing Node.
function nodeIncoming(c: Context): { socket?: { remoteAddress?: string } } | undefined {
  return (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
}

function nodeSocketAddress(c: Context): string | undefined {
  return nodeIncoming(c)?.socket?.remoteAddress;
}
