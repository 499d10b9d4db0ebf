import {
  type ConsentDecision,
  type ConsentMode,
  type ConsentResolver,
  type ConsentSignals,
  type ConsentState,
  defaultConsentResolvers,
  resolveConsent,
} from './consent.js';
import { captureOppref, parseCookieHeader } from './cookies.js';
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
  const cookieHeader = incoming.header('cookie');
  const cookies = parseCookieHeader(cookieHeader);
  const signals: ConsentSignals = {
    cookie: (name) => cookies.get(name),
    header: (name) => incoming.header(name),
  };
  const consent = resolveConsent(signals, options.consent?.resolvers ?? defaultConsentResolvers());
  const capture = captureOppref(
    { url: incoming.url, cookieHeader },
    { ...options.cookie, consent: consent.state, mode: options.consent?.mode ?? 'opt-in' },
  );
  const userAgent = incoming.header('user-agent');
  const context: RequestContext = {
    consent,
    sourceUrl: incoming.url,
    ...(capture.oppref !== undefined ? { oppref: capture.oppref } : {}),
    ...(capture.obref !== undefined ? { obref: capture.obref } : {}),
    ...(incoming.ip ? { ip: stripIpv4Mapping(incoming.ip) } : {}),
    ...(userAgent ? { userAgent } : {}),
  };
  return { context, consent, setCookies: capture.setCookies, refused: capture.refused };
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

// Node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d; the API wants the address itself.
function stripIpv4Mapping(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
