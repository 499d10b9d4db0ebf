import {
  type ConsentState,
  type ConversionInput,
  type Conversions,
  type ConversionsOptions,
  checkConversionsOptions,
  checkKeys,
  createConversions,
  type IncomingRequest,
  optionChecks,
  type PixelEventInput,
  pageUrl,
  type RequestConversions,
  splitOptions,
  type TrackResult,
  withEnvironment,
} from '@chatgpt-ads/core';
import { PixelScript } from '@chatgpt-ads/next/pixel-client';
import { headers } from 'next/headers';
import { after } from 'next/server';
import { createElement, type ReactElement } from 'react';

/**
 * Options of {@link createNextConversions}: the core client's options, plus how to find the client
 * IP and the app's own consent answer.
 *
 * @example
 * createNextConversions({ pixelId: process.env.CHATGPT_ADS_PIXEL_ID!, apiKey: process.env.CHATGPT_ADS_API_KEY! });
 */
export type NextConversionsOptions = Omit<ConversionsOptions, 'pixelId' | 'apiKey'> & {
  /** Default: `CHATGPT_ADS_PIXEL_ID`. */
  pixelId?: string;
  /** Default: `CHATGPT_ADS_API_KEY`. Read on first use, never during `next build`. */
  apiKey?: string;
  /**
   * The visitor's IP from the request headers. Default: the first `X-Forwarded-For` address, which
   * `next start` and hosting platforms set; change it when another proxy sits in front.
   */
  clientIp?: (headers: Headers) => string | undefined;
  /**
   * The app's own consent answer, asked before cookies and headers. The same option as every other
   * adapter's; in Next.js it receives the request's headers (all a server component or action has).
   */
  consentFromRequest?: (headers: Headers) => ConsentState | undefined;
};

/**
 * The Next.js helpers bound to one client. Create it once in a server-only module.
 *
 * @example
 * // lib/chatgpt-ads.ts
 * import 'server-only';
 * import { createNextConversions } from '@chatgpt-ads/next';
 * export const ads = createNextConversions({ pixelId: process.env.CHATGPT_ADS_PIXEL_ID!, apiKey: process.env.CHATGPT_ADS_API_KEY! });
 */
export interface NextConversions {
  readonly conversions: Conversions;
  /** Wraps a route handler: `ads` is the request's view; its cookies are set and the send runs after the response. */
  withConversions<C extends object = object>(
    handler: (request: Request, context: C & { ads: RequestConversions }) => Response | Promise<Response>,
  ): (request: Request, context?: C) => Promise<Response>;
  /** Tracks from a server action or route handler using `headers()`; the send runs after the response. */
  trackConversion(input: ConversionInput): Promise<TrackResult>;
  /**
   * A server component for the pixel, with the request's consent and CSP nonce (`x-nonce`). It runs
   * in the browser on every render, including client-side navigations.
   */
  Pixel(props: { event?: PixelEventInput & { id: string } }): Promise<ReactElement>;
}

// Next's own server fills X-Forwarded-Proto and -Host for every request it serves, so they count.
const siteRoot = (h: Headers): string =>
  pageUrl({ path: '/', header: (name) => h.get(name) ?? undefined, trustProxy: true });

const forwardedFor = (h: Headers): string | undefined =>
  h.get('x-forwarded-for')?.split(',')[0]?.trim() || undefined;

/**
 * Creates the Next.js helpers: `withConversions` for route handlers, `trackConversion` for server
 * actions, and `Pixel` for pages. Sends are flushed inside `after()`, so responses never wait for
 * the network and nothing is lost when a serverless function is frozen after responding.
 *
 * @example
 * export const POST = ads.withConversions(async (request, { ads: visit }) => {
 *   const order = await createOrder(await request.json());
 *   await visit.track({ type: 'order_created', id: order.id, data: { amount: order.total, currency: 'USD' } });
 *   return Response.json(order);
 * });
 */
export function createNextConversions(options: NextConversionsOptions = {}): NextConversions {
  const { own, client: clientOptions } = splitOptions(options ?? {}, ['clientIp', 'consentFromRequest']);
  checkKeys(own, '', { clientIp: optionChecks.function, consentFromRequest: optionChecks.function });
  const givenClientIp = own.clientIp as NextConversionsOptions['clientIp'];
  const consentFromRequest = own.consentFromRequest as NextConversionsOptions['consentFromRequest'];
  // Made on first use: `next build` imports this module to collect page data, where no secret is
  // set (and should not be). A missing pixel id or key is then an error at the first request.
  checkConversionsOptions(withEnvironment(clientOptions, process.env), [], { credentials: 'later' });
  let client: Conversions | undefined;
  const conversionsNow = (): Conversions => {
    client ??= createConversions(withEnvironment(clientOptions, process.env) as ConversionsOptions);
    return client;
  };
  const clientIp = givenClientIp ?? forwardedFor;

  const incoming = (url: string, h: Headers): IncomingRequest => {
    const ip = clientIp(h);
    return { url, header: (name) => h.get(name) ?? undefined, ...(ip ? { ip } : {}) };
  };
  const viewOf = (url: string, h: Headers): RequestConversions => {
    const consent = consentFromRequest?.(h);
    const nonce = h.get('x-nonce') ?? undefined;
    return conversionsNow().forRequest(incoming(url, h), {
      ...(consent ? { consent } : {}),
      nonce: () => nonce,
    });
  };
  // Inside a Next request, after() keeps the function alive until the send is done. Outside one
  // (tests, scripts) there is no response to wait for, so send now.
  const flushAfterResponse = () => {
    try {
      after(() =>
        conversionsNow()
          .flush()
          .then(() => undefined),
      );
    } catch {
      void conversionsNow().flush();
    }
  };

  return {
    get conversions() {
      return conversionsNow();
    },
    withConversions(handler) {
      return async (request, context) => {
        const ads = viewOf(request.url, request.headers);
        let response = await handler(request, { ...context, ads } as Parameters<typeof handler>[1]);
        if (ads.setCookies.length > 0) {
          // Responses such as Response.redirect() have immutable headers: copy before adding cookies.
          response = new Response(response.body, response);
          for (const cookie of ads.setCookies) response.headers.append('set-cookie', cookie);
        }
        flushAfterResponse();
        return response;
      };
    },
    async trackConversion(input) {
      const h = await headers();
      // A server action posts to the page it runs on, which the browser names in Referer.
      const result = await viewOf(h.get('referer') ?? siteRoot(h), h).track(input);
      flushAfterResponse();
      return result;
    },
    async Pixel({ event }) {
      const h = await headers();
      const view = viewOf(siteRoot(h), h);
      const nonce = h.get('x-nonce') ?? undefined;
      // The client's own snippet (mode, script, debug), only without the tag: PixelScript renders it.
      const code = view.pixelCode(event);
      return createElement(PixelScript, { code, ...(nonce ? { nonce } : {}) });
    },
  };
}
