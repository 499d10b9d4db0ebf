import { type ConsentMode, type ConsentState, consentAllows } from './consent.js';
import type { Issue } from './schema.js';
import { isSafeOpaqueRef } from './validate.js';

/** Cookie that holds the click id; the pixel's own name. @example OPPREF_COOKIE; // '__oppref' */
export const OPPREF_COOKIE = '__oppref';
/** Cookie that holds the pixel's browser reference. @example OBREF_COOKIE; // '__obref' */
export const OBREF_COOKIE = '__obref';
/** 30 days, the pixel's own lifetime for `__oppref`. @example OPPREF_MAX_AGE_SECONDS; // 2592000 */
export const OPPREF_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

/**
 * Parses a `Cookie` header into raw values, **without URL-decoding** (a value goes on byte for
 * byte). When a name repeats, the first value wins, as browsers send the most specific first.
 *
 * @example
 * parseCookieHeader('__oppref=oppref%2Babc; a=1').get('__oppref'); // 'oppref%2Babc'
 */
export function parseCookieHeader(header: string | null | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * One cookie's raw value from a `Cookie` header, exactly as {@link parseCookieHeader} would give it
 * (the first of that name, trimmed, never URL-decoded), without splitting the whole header: a page
 * view asks for three names at most.
 *
 * @example
 * readCookie('a=1; __oppref=oppref%2Babc', '__oppref'); // 'oppref%2Babc'
 */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header || !name) return undefined;
  let at = 0;
  for (;;) {
    const end = header.indexOf(';', at);
    const stop = end === -1 ? header.length : end;
    let start = at;
    while (start < stop && isTrimmed(header.charCodeAt(start))) start++;
    if (header.startsWith(name, start)) {
      let next = start + name.length;
      while (next < stop && isTrimmed(header.charCodeAt(next))) next++;
      if (next < stop && header.charCodeAt(next) === 61 /* = */) return header.slice(next + 1, stop).trim();
    }
    if (end === -1) return undefined;
    at = end + 1;
  }
}

// The characters String.prototype.trim removes (WhiteSpace and LineTerminator).
function isTrimmed(code: number): boolean {
  return (
    (code >= 9 && code <= 13) ||
    code === 32 ||
    code === 160 ||
    code === 5760 ||
    (code >= 8192 && code <= 8202) ||
    code === 8232 ||
    code === 8233 ||
    code === 8239 ||
    code === 8287 ||
    code === 12288 ||
    code === 65279
  );
}

/**
 * Attributes of a cookie written by this library.
 *
 * @example
 * const attrs: CookieAttributes = { secure: true, domain: 'shop.example', maxAgeSeconds: 60 };
 */
export interface CookieAttributes {
  /** Add `Secure` (set it for https requests). */
  secure?: boolean;
  /** `Domain=` attribute; omitted by default (host-only cookie). */
  domain?: string;
  /** `Max-Age` in seconds. Default 30 days. */
  maxAgeSeconds?: number;
}

/**
 * Serializes a `Set-Cookie` value with `Path=/`, `SameSite=Lax`, never `HttpOnly` (the pixel must
 * read and refresh it). The value is written as given: callers pass only safe opaque values.
 *
 * @example
 * serializeCookie('__oppref', 'abc', { secure: true }); // '__oppref=abc; Path=/; Max-Age=2592000; SameSite=Lax; Secure'
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes = {}): string {
  let cookie = `${name}=${value}; Path=/; Max-Age=${attributes.maxAgeSeconds ?? OPPREF_MAX_AGE_SECONDS}; SameSite=Lax`;
  if (attributes.domain) cookie += `; Domain=${attributes.domain}`;
  if (attributes.secure) cookie += '; Secure';
  return cookie;
}

/**
 * A `Set-Cookie` value that deletes the cookie (same path and domain as it was written with).
 *
 * @example
 * expireCookie('__oppref'); // '__oppref=; Path=/; Max-Age=0; SameSite=Lax'
 */
export function expireCookie(name: string, attributes: Omit<CookieAttributes, 'maxAgeSeconds'> = {}): string {
  return serializeCookie(name, '', { ...attributes, maxAgeSeconds: 0 });
}

/**
 * The raw first value of `oppref` in a URL's query string, **not decoded** (`+` stays `+`,
 * `%2B` stays `%2B`), or `undefined` when absent or empty.
 *
 * @example
 * readOpprefFromUrl('https://shop.example/?oppref=abc%2B1&oppref=other'); // 'abc%2B1'
 */
export function readOpprefFromUrl(url: string | URL): string | undefined {
  const href = typeof url === 'string' ? url : url.href;
  const start = href.indexOf('?');
  if (start === -1) return undefined;
  const end = href.indexOf('#', start);
  const query = href.slice(start + 1, end === -1 ? undefined : end);
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (name === 'oppref') {
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      if (value !== '') return value;
    }
  }
  return undefined;
}

/**
 * Options of {@link captureOppref}.
 *
 * @example
 * captureOppref({ url, cookieHeader }, { consent: 'granted', mode: 'opt-in', secure: true });
 */
export interface CaptureOptions extends Omit<CookieAttributes, 'secure'> {
  /** The visitor's consent for this request. */
  consent: ConsentState;
  /** Consent mode. Default `opt-in`. */
  mode?: ConsentMode;
  /** Add `Secure`. Default: true when the URL is https. */
  secure?: boolean;
}

/**
 * What {@link captureOppref} found and the `Set-Cookie` values the response must carry.
 *
 * @example
 * const { oppref, setCookies } = captureOppref(request, { consent: 'granted' });
 */
export interface OpprefCapture {
  /** The click id for this request: the landing URL's, else the cookie's. Absent without consent. */
  oppref?: string;
  /** The pixel's browser reference from `__obref`. Absent without consent. */
  obref?: string;
  /** Where `oppref` came from. */
  source: 'url' | 'cookie' | 'none';
  /** `Set-Cookie` header values to append to the response (possibly none). */
  setCookies: string[];
  /** Values that were present but unsafe, and therefore ignored. */
  refused: Issue[];
}

/**
 * Captures the ChatGPT click id on a request. With consent it returns the click id (URL first,
 * then cookie) and a `Set-Cookie` for `__oppref` when the URL brings a new value; under a denial it
 * writes nothing and expires `__oppref`/`__obref` if the browser has them. Unsafe values (over
 * 2,048 characters, whitespace, controls, `;`, `,`, `"`) are refused, never truncated.
 *
 * @example
 * const capture = captureOppref(
 *   { url: 'https://shop.example/?oppref=gAAAA123', cookieHeader: null },
 *   { consent: 'granted' },
 * );
 * capture.setCookies; // ['__oppref=gAAAA123; Path=/; Max-Age=2592000; SameSite=Lax; Secure']
 */
export function captureOppref(
  request: Request | { url: string | URL; cookieHeader?: string | null },
  options: CaptureOptions,
): OpprefCapture {
  const url = typeof request.url === 'string' ? request.url : request.url.href;
  const cookieHeader = 'headers' in request ? request.headers.get('cookie') : request.cookieHeader;
  return captureFromCookies(url, (name) => readCookie(cookieHeader, name), options);
}

/**
 * {@link captureOppref} with the request's cookies read through `cookie(name)`, the reader the
 * consent resolvers use too.
 *
 * @example
 * captureFromCookies('https://shop.example/?oppref=x', (name) => readCookie(header, name), { consent: 'granted' });
 */
export function captureFromCookies(
  url: string,
  cookie: (name: string) => string | undefined,
  options: CaptureOptions,
): OpprefCapture {
  const refused: Issue[] = [];
  const fromUrl = safeRef(readOpprefFromUrl(url), 'oppref', refused);
  const storedOppref = cookie(OPPREF_COOKIE);
  const storedObref = cookie(OBREF_COOKIE);
  const fromCookie = safeRef(storedOppref, 'oppref', refused);
  const obref = safeRef(storedObref, 'obref', refused);
  const attributes: CookieAttributes = { secure: options.secure ?? url.startsWith('https:') };
  if (options.domain) attributes.domain = options.domain;

  if (options.consent === 'denied') {
    const setCookies: string[] = [];
    if (storedOppref !== undefined) setCookies.push(expireCookie(OPPREF_COOKIE, attributes));
    if (storedObref !== undefined) setCookies.push(expireCookie(OBREF_COOKIE, attributes));
    return { source: 'none', setCookies, refused };
  }
  if (!consentAllows(options.mode ?? 'opt-in', options.consent)) {
    return { source: 'none', setCookies: [], refused };
  }
  const setCookies: string[] = [];
  if (fromUrl !== undefined && fromUrl !== fromCookie) {
    attributes.maxAgeSeconds = options.maxAgeSeconds ?? OPPREF_MAX_AGE_SECONDS;
    setCookies.push(serializeCookie(OPPREF_COOKIE, fromUrl, attributes));
  }
  const capture: OpprefCapture = {
    source: fromUrl !== undefined ? 'url' : fromCookie !== undefined ? 'cookie' : 'none',
    setCookies,
    refused,
  };
  const oppref = fromUrl ?? fromCookie;
  if (oppref !== undefined) capture.oppref = oppref;
  if (obref !== undefined) capture.obref = obref;
  return capture;
}

// A click id or browser reference is kept only when it can go out byte for byte and be stored in a cookie.
function safeRef(value: string | undefined, path: 'oppref' | 'obref', refused: Issue[]): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (isSafeOpaqueRef(value)) return value;
  refused.push({
    path,
    code: path === 'obref' ? 'obref_invalid' : 'oppref_invalid',
    message: `unsafe ${path} value ignored`,
  });
  return undefined;
}
