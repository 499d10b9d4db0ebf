import {
  type ConsentDecision,
  type ConsentMode,
  type ConsentResolver,
  type ConsentSignals,
  type ConsentState,
  defaultConsentResolvers,
  resolveConsent,
} from './consent.js';
import { captureFromCookies, OBREF_COOKIE, OPPREF_COOKIE, readCookie } from './cookies.js';
import type { Issue } from './schema.js';

/**
 * What a server knows about the request a conversion belongs to. Adapters build it; a hand-written
 * one works too (e.g. from a stored lead).
 *
 * @example
 * const context: RequestContext = { oppref: 'gAAAA123', consent: 'granted', ip: '203.0.113.7',
 *   userAgent: 'Mozilla/5.0', sourceUrl: 'https://shop.example/checkout' };
 */
export interface RequestContext {
  oppref?: string;
  obref?: string;
  consent?: ConsentState | ConsentDecision;
  ip?: string;
  userAgent?: string;
  sourceUrl?: string;
}

/**
 * The few things core needs from a framework's request.
 *
 * @example
 * const incoming: IncomingRequest = { url: 'https://shop.example/?oppref=x', header: (n) => headers[n], ip: '203.0.113.7' };
 */
export interface IncomingRequest {
  /** Absolute URL as the visitor requested it (behind a trusted proxy: the forwarded proto and host). */
  url: string;
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** The client IP as the framework resolved it (its own proxy-trust rules apply). */
  ip?: string;
}

/**
 * How requests are read: consent mode and resolvers, and cookie attributes.
 *
 * @example
 * const options: RequestOptions = { consent: { mode: 'opt-out' }, cookie: { domain: 'shop.example' } };
 */
export interface RequestOptions {
  consent?: { mode?: ConsentMode; resolvers?: readonly ConsentResolver[] };
  cookie?: { domain?: string; secure?: boolean; maxAgeSeconds?: number };
}

/**
 * The result of {@link readRequest}: the context for `track`, the consent decision, and the
 * `Set-Cookie` values the response must carry.
 *
 * @example
 * const { context, setCookies } = readRequest(incoming);
 */
export interface RequestReading {
  context: RequestContext;
  consent: ConsentDecision;
  setCookies: string[];
  refused: Issue[];
}

/**
 * Reads a request once: resolves consent, captures `oppref` (and `__obref`), and extracts IP, user
 * agent and the page URL. This is everything an adapter does besides translating its framework.
 *
 * @example
 * const reading = readRequest(fromWebRequest(request), { consent: { mode: 'opt-in' } });
 * for (const cookie of reading.setCookies) response.headers.append('set-cookie', cookie);
 */
export function readRequest(incoming: IncomingRequest, options: RequestOptions = {}): RequestReading {
  // A framework's header getter or URL that misbehaves reads as absent: the request goes on.
  const header = (name: string): string | undefined => {
    try {
      const value: unknown = incoming.header(name);
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const url = typeof incoming.url === 'string' ? incoming.url : '';
  // Every request pays for this, page views included: only the cookies asked for are read.
  const cookieHeader = header('cookie');
  const cookie = (name: string) => readCookie(cookieHeader, name);
  const signals: ConsentSignals = { cookie, header };
  const consent = resolveConsent(signals, options.consent?.resolvers ?? DEFAULT_RESOLVERS);
  const attributes = options.cookie;
  const capture = captureFromCookies(url, cookie, {
    consent: consent.state,
    mode: options.consent?.mode ?? 'opt-in',
    ...(attributes?.domain !== undefined ? { domain: attributes.domain } : {}),
    ...(attributes?.secure !== undefined ? { secure: attributes.secure } : {}),
    ...(attributes?.maxAgeSeconds !== undefined ? { maxAgeSeconds: attributes.maxAgeSeconds } : {}),
  });
  const context: RequestContext = { consent };
  if (url) context.sourceUrl = url;
  if (capture.oppref !== undefined) context.oppref = capture.oppref;
  if (capture.obref !== undefined) context.obref = capture.obref;
  if (typeof incoming.ip === 'string' && incoming.ip) context.ip = clientAddress(incoming.ip);
  const userAgent = header('user-agent');
  if (userAgent) context.userAgent = userAgent;
  return { context, consent, setCookies: capture.setCookies, refused: capture.refused };
}

const DEFAULT_RESOLVERS: readonly ConsentResolver[] = Object.freeze(defaultConsentResolvers());

/**
 * Whether reading a request could write or expire an attribution cookie, or have something to
 * report: only when its URL carries `oppref=` or its cookie header names `__oppref` or `__obref` (a
 * superset of what {@link readRequest} matches). Most page views carry none, and need no reading
 * at all until a conversion asks for their context.
 *
 * @example
 * carriesClickRef({ url: 'https://shop.example/?oppref=gAAAAB-1', header: () => undefined }); // true
 * carriesClickRef({ url: 'https://shop.example/', header: () => 'theme=dark' });              // false
 */
export function carriesClickRef(incoming: IncomingRequest): boolean {
  const url: unknown = incoming.url;
  if (typeof url === 'string' && url.includes('oppref=')) return true;
  let cookies: unknown;
  try {
    cookies = incoming.header('cookie');
  } catch {
    // readRequest takes a header getter that throws as no header: nothing to write then either.
    return false;
  }
  return typeof cookies === 'string' && (cookies.includes(OPPREF_COOKIE) || cookies.includes(OBREF_COOKIE));
}

/**
 * Adapts a Web `Request` (route handlers, Edge, workers) to {@link IncomingRequest}.
 *
 * @example
 * readRequest(fromWebRequest(request, request.headers.get('x-real-ip') ?? undefined));
 */
export function fromWebRequest(request: Request, ip?: string): IncomingRequest {
  return {
    url: request.url,
    header: (name) => request.headers.get(name) ?? undefined,
    ...(ip ? { ip } : {}),
  };
}

/**
 * How a server saw a request, for {@link pageUrl}: its path with the query, the protocol it was
 * served over (the framework's, when it resolved one under its proxy rules), and its headers.
 *
 * @example
 * const seen: ServedRequest = { path: '/?oppref=x', header: (n) => headers[n], trustProxy: false };
 */
export interface ServedRequest {
  /** Path and query exactly as requested (`/landing?oppref=…`), never re-encoded. */
  path: string;
  header(name: string): string | undefined;
  /** The protocol the framework resolved (`'https'`), or the socket's; default `'http'`. */
  protocol?: string;
  /** The connection comes from your own proxy: its `X-Forwarded-Proto` / `X-Forwarded-Host` count. */
  trustProxy: boolean;
}

/**
 * The one rule for the page URL the visitor saw, shared by every adapter: the first
 * `X-Forwarded-Proto` / `X-Forwarded-Host` value when the connection comes from your own proxy
 * (forwarded headers from anyone else are ignored), else the protocol the server saw and the Host
 * header. The path is kept byte for byte, so the click id in it is too.
 *
 * @example
 * pageUrl({ path: '/?oppref=Zw==', header: () => 'shop.example', protocol: 'https', trustProxy: false });
 * // 'https://shop.example/?oppref=Zw=='
 */
export function pageUrl(request: ServedRequest): string {
  const forwarded = (name: string) =>
    request.trustProxy ? request.header(name)?.split(',')[0]?.trim() || undefined : undefined;
  const protocol = forwarded('x-forwarded-proto') ?? request.protocol ?? 'http';
  const host = forwarded('x-forwarded-host') ?? request.header('host') ?? 'localhost';
  return `${protocol}://${host}${request.path.startsWith('/') ? request.path : `/${request.path}`}`;
}

/**
 * The bare client address from what a socket or a proxy header gives: some load balancers append
 * the port (`203.0.113.7:51234`, `[2001:db8::1]:443`), and Node reports IPv4 clients of a
 * dual-stack socket as `::ffff:a.b.c.d`. The API wants the address itself.
 *
 * @example
 * clientAddress('203.0.113.7:51234');   // '203.0.113.7'
 * clientAddress('[2001:db8::1]:443');   // '2001:db8::1'
 * clientAddress('::ffff:203.0.113.7');  // '203.0.113.7'
 */
export function clientAddress(ip: string): string {
  let address = ip.trim();
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else {
    const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(address);
    if (withPort) address = withPort[1]!;
  }
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
