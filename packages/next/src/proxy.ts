// The proxy side (proxy.ts in Next 16, middleware.ts in Next 15). It needs no API key, so nothing
// secret is imported into it, and it uses Web APIs only (Next 15 middleware runs on the Edge runtime).
import {
  type ConsentResolver,
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
  const apply = (request: Request, response: Response): Response => {
    const reading = readRequest(fromWebRequest(request), options);
    for (const cookie of reading.setCookies) response.headers.append('set-cookie', cookie);
    return response;
  };
  const proxy = (request: NextRequest | Request): Response => apply(request, NextResponse.next());
  return Object.assign(proxy, { apply });
}

let warned = false;

// Next re-encodes the query string before the proxy runs unless the config says not to; then a
// click id ending in "==" would be stored as "%3D%3D" and never match. withChatgptAds() sets the
// switch and this marker (Next inlines config env values into the proxy bundle).
function warnWithoutRawUrl(): void {
  if (warned || process.env.CHATGPT_ADS_RAW_PROXY_URL === '1') return;
  warned = true;
  console.warn(
    '[chatgpt-ads] The oppref proxy runs without the raw request URL: Next re-encodes the query ' +
      'string, which changes click ids ending in "=" and attribution fails. Wrap your config: ' +
      "`export default withChatgptAds(nextConfig)` from '@chatgpt-ads/next/config'.",
  );
}
