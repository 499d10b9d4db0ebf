import type { IncomingMessage, ServerResponse } from 'node:http';
import * as control from './channels/control.js';
import { pixelEvents, pixelScript } from './channels/pixel.js';
import { serverEvents } from './channels/server-api.js';
import { cors, forbidden, json } from './http.js';
import type { Handler, SandboxState } from './state.js';

/**
 * Who may call a route:
 * - `api`: the Conversions API, called by servers, which send no Origin; a page elsewhere may not.
 * - `pixel`: the stand-in pixel, which a store's pages on any origin use, so with CORS.
 * - `local`: what shows or changes the records, so only requests that name this machine (or an
 *   allowed host) as Host and come from its own pages, which defeats DNS rebinding.
 */
type Access = 'api' | 'pixel' | 'local';

interface Route {
  method: 'GET' | 'POST';
  path: string;
  access: Access;
  /** A page a link elsewhere may open: it holds no data itself, so it skips the Origin checks. */
  navigation?: true;
  handle: Handler;
}

/** Every route of the sandbox; a request that matches none gets 404 after the `local` checks. */
const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/v1/events', access: 'api', handle: serverEvents },
  { method: 'GET', path: '/v1/sdk/events', access: 'pixel', handle: pixelEvents },
  { method: 'POST', path: '/v1/sdk/events', access: 'pixel', handle: pixelEvents },
  { method: 'GET', path: '/sdk/oaiq.min.js', access: 'pixel', handle: pixelScript },
  { method: 'GET', path: '/v1/conversions/events', access: 'local', handle: control.monitoring },
  { method: 'GET', path: '/_sandbox/events', access: 'local', handle: control.listEvents },
  { method: 'GET', path: '/_sandbox/requests', access: 'local', handle: control.listRequests },
  { method: 'GET', path: '/_sandbox/faults', access: 'local', handle: control.describeFaults },
  { method: 'POST', path: '/_sandbox/faults', access: 'local', handle: control.setFaults },
  { method: 'POST', path: '/_sandbox/reset', access: 'local', handle: control.reset },
  { method: 'GET', path: '/_sandbox/stream', access: 'local', handle: control.stream },
  { method: 'GET', path: '/', access: 'local', navigation: true, handle: control.inspectorPage },
  { method: 'GET', path: '/index.html', access: 'local', navigation: true, handle: control.inspectorPage },
];

const routeByKey = new Map(ROUTES.map((route) => [`${route.method} ${route.path}`, route]));
const pixelPaths = new Set(ROUTES.filter((route) => route.access === 'pixel').map((route) => route.path));
const CROSS_ORIGIN = 'this route does not take requests from web pages on other origins';

/** Finds the request's route, applies its access rule, and lets its handler answer. */
export async function dispatch(
  state: SandboxState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox.local');
  res.setHeader('x-content-type-options', 'nosniff');
  if (req.method === 'OPTIONS') return preflight(res, url.pathname);
  const route = routeByKey.get(`${req.method} ${url.pathname}`);
  if (route?.access === 'api') {
    const origin = req.headers.origin;
    if (origin !== undefined && !isLoopbackOrigin(origin))
      return forbidden(res, 'the API endpoint does not take requests from web pages on other origins');
  } else if (route?.access === 'pixel') {
    cors(res);
  } else {
    // An unknown route is this machine's too: a page elsewhere learns nothing, not even a 404.
    const refusal = localRefusal(req, state.allowedHosts, route?.navigation === true);
    if (refusal) return forbidden(res, refusal);
    if (req.method === 'POST' && !saysJson(req)) {
      const message = 'send control requests with content-type: application/json';
      return json(res, 415, { error: { message, type: 'invalid_request_error' } });
    }
  }
  if (!route) {
    const message = `no route for ${req.method} ${url.pathname}`;
    return json(res, 404, { error: { message, type: 'invalid_request_error' } });
  }
  return route.handle({ state, req, res, url });
}

/** Only the pixel routes grant a CORS preflight; every other route stays same-origin. */
function preflight(res: ServerResponse, path: string): void {
  if (!pixelPaths.has(path)) {
    json(res, 404, { error: { message: 'no cross-origin access to this route' } });
    return;
  }
  cors(res);
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-max-age': '600',
  });
  res.end();
}

/**
 * Why a request may not see or change the sandbox's records, or undefined when it may: the Host must
 * name this machine (or an allowed host), so a rebound DNS name is refused, and a browser request
 * must come from the sandbox's own origin.
 */
function localRefusal(
  req: IncomingMessage,
  allowedHosts: ReadonlySet<string>,
  navigation: boolean,
): string | undefined {
  const host = req.headers.host ?? '';
  const name = hostName(host);
  if (!isLoopbackName(name) && !allowedHosts.has(name))
    return `this route answers only to localhost, 127.0.0.1 or [::1] (Host was "${host.slice(0, 100)}"); add the name to allowedHosts to reach it otherwise`;
  if (navigation) return undefined;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return CROSS_ORIGIN;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return CROSS_ORIGIN;
  return undefined;
}

/**
 * A state-changing control request must say it is JSON: a page on another origin cannot send that
 * content type without a CORS preflight, which these routes never grant.
 */
function saysJson(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** The host name of a Host header value (`name`, `name:port`, `[v6]:port`), lower-cased. */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(host);
  if (bracketed) return `[${bracketed[1]!.toLowerCase()}]`;
  return host.replace(/:\d*$/, '').toLowerCase();
}

function isLoopbackName(name: string): boolean {
  return (
    name === 'localhost' ||
    name === '[::1]' ||
    /^127\.(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){2}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/.test(name)
  );
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const parsed = new URL(origin);
    return parsed.protocol === 'http:' && isLoopbackName(parsed.hostname.toLowerCase());
  } catch {
    return false;
  }
}
