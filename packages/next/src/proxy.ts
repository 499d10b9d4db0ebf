// The proxy side (proxy.ts in Next 16, middleware.ts in Next 15). It needs no API key, so nothing
// secret is imported into it, and it uses Web APIs only (Next 15 middleware runs on the Edge runtime).
import {
  type ConsentResolver,
  carriesClickRef,
  checkKeys,
  checkRequestOptions,
  fromWebRequest,
  type RequestOptions,
  readRequest,
} from '@chatgpt-ads/core';
import { type NextRequest, NextResponse } from 'next/server';

/**
 * Options of {@link createOpprefProxy}: the same consent and cookie settings as your server client.
 *
 * @example
 * createOpprefProxy({ consent: { mode: 'opt-in', resolvers: [oneTrustConsent(), globalPrivacyControl()] } });
 */
export interface OpprefProxyOptions {
  consent?: { mode?: 'opt-in' | 'opt-out'; resolvers?: readonly ConsentResolver[] };
  cookie?: RequestOptions['cookie'];
}

/**
 * A proxy that captures `oppref` from the landing URL into the `__oppref` cookie (or clears
 * attribution cookies under a denial). Use it as your `proxy`, or call `.apply(request, response)`
 * on the response your own proxy returns.
 *
 * @example
 * // proxy.ts (Next 16) — or middleware.ts with `export const middleware` (Next 15)
 * import { createOpprefProxy } from '@chatgpt-ads/next/proxy';
 * export const proxy = createOpprefProxy({ consent: { mode: 'opt-in' } });
 * export const config = { matcher: ['/((?!api|_next/static|_next/image|favicon.ico|.*\\..*).*)'] };
 */
export function createOpprefProxy(options: OpprefProxyOptions = {}) {
  checkKeys(options, 'createOpprefProxy', { consent: null, cookie: null });
  checkRequestOptions(options, 'createOpprefProxy');
  warnWithoutRawUrl();
  const urlIsRaw = process.env.CHATGPT_ADS_RAW_PROXY_URL === 'raw';
  const apply = (request: Request, response: Response): Response => {
    const incoming = fromWebRequest(request);
    // Most page views carry no click id at all: nothing to store, expire or report.
    if (!carriesClickRef(incoming)) return response;
    if (!urlIsRaw) incoming.url = restoreFormEncoded(incoming.url);
    const reading = readRequest(incoming, options);
    for (const cookie of reading.setCookies) response.headers.append('set-cookie', cookie);
    return response;
  };
  const proxy = (request: NextRequest | Request): Response => apply(request, NextResponse.next());
  return Object.assign(proxy, { apply });
}

/**
 * Undoes, in the `oppref` value only, the form encoding Next applies to the query before the proxy
 * runs: characters a browser sends as they are (`=`, `~`, `!`, `$`, `(`, `)`, `*`, `/`, `:`, `@`,
 * `?`) come back from their `%XX` form. An apostrophe stays `%27` (browsers send it so), and `%2B`,
 * `%26`, `%25`, `%23` stay encoded. The one case it cannot tell apart is a click id that itself
 * carried `%3D` (or another of those escapes) in the ad's URL; OpenAI's ids are URL-safe base64.
 *
 * @example
 * restoreFormEncoded('https://shop.example/?oppref=gAAAAB-x%3D%3D'); // 'https://shop.example/?oppref=gAAAAB-x=='
 */
export function restoreFormEncoded(url: string): string {
  return url.replace(
    /([?&]oppref=)([^&#]+)/,
    (_match, name: string, value: string) =>
      name +
      value.replace(/%(3D|7E|21|24|28|29|2A|2F|3A|40|3F)/g, (_escape, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      ),
  );
}

let warned = false;

// Next 16 re-encodes the query string before the proxy runs unless the config says not to;
// withChatgptAds() sets the switch and this marker (Next inlines config env values into the
// proxy bundle). Without it the click id is restored as well as can be, and this says how to do
// better.
function warnWithoutRawUrl(): void {
  const marker = process.env.CHATGPT_ADS_RAW_PROXY_URL;
  if (warned || marker === 'raw' || marker === 'form-encoded') return;
  warned = true;
  console.warn(
    '[chatgpt-ads] The oppref proxy runs without the raw request URL: Next re-encodes the query ' +
      'string, which changes click ids ending in "=" and attribution fails. Wrap your config: ' +
      "`export default withChatgptAds(nextConfig)` from '@chatgpt-ads/next/config'.",
  );
}
