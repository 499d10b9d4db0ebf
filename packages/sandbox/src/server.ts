import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Issue } from '@chatgpt-ads/core';
import { checkIntegrationSource, validateEnvelope, validateEvent } from '@chatgpt-ads/core/wire';
import { type Fault, FaultPlan } from './faults.js';
import { INSPECTOR_CSP, INSPECTOR_HTML } from './inspector.js';
import { PIXEL_SCRIPT } from './pixel-script.js';
import { type Channel, SandboxStore, type StoredEvent, type StoredRequest } from './store.js';

/**
 * A pixel the sandbox accepts, with its Conversions API key.
 *
 * @example
 * const pixel: SandboxPixel = { pixelId: 'px_test', apiKey: 'sk_test' };
 */
export interface SandboxPixel {
  pixelId: string;
  apiKey: string;
}

/**
 * Options of {@link startSandbox}.
 *
 * @example
 * await startSandbox({ port: 0, pixels: [{ pixelId: 'px_test', apiKey: 'sk_test' }] });
 */
export interface SandboxOptions {
  /** Port to listen on; 0 picks a free one. Default 8787. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Accepted pixels and keys: an unknown pixel gets 404, a wrong key 401. Default: any pixel, any non-empty key. */
  pixels?: readonly SandboxPixel[];
  /** Faults to inject from the start (see {@link Fault}). */
  faults?: readonly Fault[];
  /** Request bodies above this size get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Most events and requests kept for listing (dedup keys are always kept). Default 200,000. */
  maxStored?: number;
  /** Clock for timestamps and the 7-day window. Default `Date.now`. */
  now?: () => number;
  /**
   * Host names, besides loopback ones, that the inspector, the `/_sandbox/*` routes and the monitoring
   * endpoint answer to: e.g. `['sandbox']` when other containers reach it as `http://sandbox:8787`.
   * Default none: only `localhost`, `127.0.0.0/8` and `[::1]`, so a web page that rebinds its own
   * domain to this machine cannot read what the sandbox recorded.
   */
  allowedHosts?: readonly string[];
}

/**
 * A running sandbox.
 *
 * @example
 * const sandbox = await startSandbox({ port: 0 });
 * const conversions = createConversions({ pixelId: 'px_test', apiKey: 'sk_test', endpoint: sandbox.endpoint });
 * // … exercise your app …
 * expect(sandbox.events().map((e) => e.event.type)).toContain('order_created');
 * await sandbox.close();
 */
export interface Sandbox {
  /** Base URL, e.g. `http://127.0.0.1:8787`; the inspector page is served here. */
  url: string;
  /** The Conversions API endpoint to configure as `endpoint`. */
  endpoint: string;
  /** The stand-in pixel script to give to `renderPixel({ scriptUrl })`. */
  pixelScriptUrl: string;
  events(): StoredEvent[];
  requests(): StoredRequest[];
  reset(): void;
  /** Replaces the injected faults. */
  setFaults(faults: readonly Fault[]): void;
  close(): Promise<void>;
}

const RECENT_WINDOW_MS = 15 * 60_000;
const DEFAULT_PORT = 8787;

/**
 * Starts the Conversions API emulator: `POST /v1/events` with OpenAI's validation, all-or-nothing
 * batches and first-wins dedup across server and pixel, the stand-in pixel, the monitoring
 * endpoint, a JSON API for tests, fault injection and the inspector page.
 *
 * @example
 * const sandbox = await startSandbox({ port: 0 });
 * console.log(`inspector: ${sandbox.url}`);
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const store = new SandboxStore(options.maxStored ?? 200_000);
  const faults = new FaultPlan(now);
  faults.set(options.faults ?? []);
  const allowedHosts = new Set((options.allowedHosts ?? []).map((host) => host.toLowerCase()));
  const keysByPixel = options.pixels ? new Map(options.pixels.map((p) => [p.pixelId, p.apiKey])) : undefined;
  const openResponses = new Set<ServerResponse>();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const server = createServer((req, res) => {
    openResponses.add(res);
    res.on('close', () => openResponses.delete(res));
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        json(res, 500, { error: { message: `sandbox error: ${String(error)}`, type: 'server_error' } });
      else res.end();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const path = url.pathname;
    res.setHeader('x-content-type-options', 'nosniff');
    // The pixel routes are the only ones a page on another origin may use: the stand-in pixel posts
    // events from the store's pages to the sandbox.
    const pixelRoute = path === '/v1/sdk/events' || path === '/sdk/oaiq.min.js';
    if (req.method === 'OPTIONS') {
      if (!pixelRoute) return json(res, 404, { error: { message: 'no cross-origin access to this route' } });
      cors(res);
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (req.method === 'POST' && path === '/v1/events') {
      // Servers send no Origin; a browser page elsewhere has no business with the API endpoint.
      if (req.headers.origin !== undefined && !isLoopbackOrigin(req.headers.origin))
        return forbidden(res, 'the API endpoint does not take requests from web pages on other origins');
      return ingestServer(req, res, url);
    }
    if (path === '/v1/sdk/events' && (req.method === 'POST' || req.method === 'GET'))
      return ingestPixel(req, res, url);
    if (req.method === 'GET' && path === '/sdk/oaiq.min.js') {
      cors(res);
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PIXEL_SCRIPT);
      return;
    }
    // Everything below shows or changes what the sandbox recorded: only for this machine.
    const page = req.method === 'GET' && (path === '/' || path === '/index.html');
    const refusal = localOnly(req, allowedHosts, page);
    if (refusal) return forbidden(res, refusal);
    if (req.method === 'POST') {
      const reason = controlPostRefusal(req);
      if (reason) return json(res, 415, { error: { message: reason, type: 'invalid_request_error' } });
    }
    if (req.method === 'GET' && path === '/v1/conversions/events') return monitoring(res, url);
    if (req.method === 'GET' && path === '/_sandbox/events') return json(res, 200, { data: store.events() });
    if (req.method === 'GET' && path === '/_sandbox/requests')
      return json(res, 200, { data: store.requests() });
    if (req.method === 'GET' && path === '/_sandbox/faults') return json(res, 200, faults.describe());
    if (req.method === 'POST' && path === '/_sandbox/reset') {
      store.reset();
      return json(res, 200, { ok: true });
    }
    if (req.method === 'POST' && path === '/_sandbox/faults') {
      const body = await readBody(req, maxBodyBytes);
      const parsed = body === undefined ? undefined : parseJson(body);
      if (!Array.isArray(parsed))
        return json(res, 400, { error: { message: 'send a JSON array of faults' } });
      faults.set(parsed as Fault[]);
      return json(res, 200, faults.describe());
    }
    if (req.method === 'GET' && path === '/_sandbox/stream') return stream(req, res);
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': INSPECTOR_CSP,
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
      res.end(INSPECTOR_HTML);
      return;
    }
    json(res, 404, {
      error: { message: `no route for ${req.method} ${path}`, type: 'invalid_request_error' },
    });
  }

  async function ingestServer(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = now();
    const seq = store.nextRequestSeq();
    const pixelId = url.searchParams.get('pid') ?? undefined;
    const record = (status: number, extra: Partial<StoredRequest> = {}): StoredRequest => {
      const request: StoredRequest = {
        seq,
        receivedAt: started,
        method: 'POST',
        path: '/v1/events',
        channel: 'server_to_server',
        status,
        eventCount: 0,
        validateOnly: false,
        ...(pixelId ? { pixelId } : {}),
        ...extra,
        durationMs: now() - started,
      };
      store.addRequest(request);
      return request;
    };

    const injected = fromHeader(req.headers['x-sandbox-fault']) ?? faults.next();
    if (injected) {
      if ('latencyMs' in injected) await delay(injected.latencyMs);
      else if ('reset' in injected) {
        record(0, { fault: 'connection reset' });
        req.socket.destroy();
        return;
      } else if ('hang' in injected) {
        record(0, { fault: 'hang' });
        return; // never answered; the client's timeout decides
      } else if ('status' in injected) {
        await readBody(req, maxBodyBytes);
        const headers: Record<string, string> = {};
        if (injected.retryAfter !== undefined) headers['retry-after'] = String(injected.retryAfter);
        const answer = injected.body ?? {
          error: { message: `injected ${injected.status}`, type: 'server_error' },
        };
        record(injected.status, { fault: `status ${injected.status}`, response: answer });
        json(res, injected.status, answer, headers);
        return;
      }
    }

    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (!pixelId) return refuse(record, res, 400, 'the pid query parameter is required', 'missing_pid');
    if (keysByPixel && !keysByPixel.has(pixelId)) {
      return refuse(record, res, 404, `Not found: no pixel ${pixelId} on this account`, 'pixel_not_found');
    }
    if (!auth || (keysByPixel && keysByPixel.get(pixelId) !== auth)) {
      return refuse(record, res, 401, 'Invalid Conversions API key', 'invalid_api_key');
    }

    const body = await readBody(req, maxBodyBytes);
    if (body === undefined) {
      return refuse(
        record,
        res,
        413,
        `request body is larger than ${maxBodyBytes} bytes`,
        'request_too_large',
      );
    }
    const parsed = parseJson(body);
    if (parsed === undefined)
      return refuse(record, res, 400, 'the request body is not valid JSON', 'invalid_json');
    // The API keeps the first three values of a list and drops the rest without an error.
    const issues = validateEnvelope(parsed, { now: now() }).filter((issue) => issue.code !== 'list_too_long');
    const envelope = parsed as {
      events?: Array<Record<string, unknown>>;
      validate_only?: boolean;
      integration_source?: string;
    };
    const events = Array.isArray(envelope.events) ? envelope.events : [];
    const rejected = events.findIndex((event) => faults.rejected(event?.id));
    if (rejected !== -1) {
      const code = 'rejected_by_fault' as Issue['code'];
      issues.unshift({
        path: `events[${rejected}].id`,
        code,
        message: 'this event id is rejected by a sandbox fault',
      });
    }
    const validateOnly = envelope.validate_only === true;
    const integration = checkIntegrationSource(envelope.integration_source);
    const common = {
      eventCount: events.length,
      validateOnly,
      ...(envelope.integration_source !== undefined && integration.ok
        ? { integrationSource: integration.value }
        : {}),
      ...(rejected !== -1 ? { fault: `rejected id ${String(events[rejected]?.id)}` } : {}),
    };
    if (issues.length > 0) {
      const first = issues[0]!;
      const answer = {
        error: {
          message: `${first.path}: ${first.message}`,
          type: 'invalid_request_error',
          code: first.code,
          param: first.path,
          errors: issues.map((issue) => ({ param: issue.path, code: issue.code, message: issue.message })),
        },
      };
      record(400, { ...common, error: { message: answer.error.message, issues }, response: answer });
      json(res, 400, answer);
      return;
    }
    let duplicates = 0;
    if (!validateOnly) {
      for (const event of events) {
        const stored = store.addEvent({
          receivedAt: started,
          pixelId,
          channel: 'server_to_server',
          requestSeq: seq,
          event: event as StoredEvent['event'],
        });
        if (stored.duplicateOf !== undefined) duplicates++;
      }
    }
    const answer = {
      object: 'events.ingest',
      received: events.length,
      duplicates,
      validate_only: validateOnly,
    };
    // Recorded after its events, so the record can say what the sandbox answered.
    record(200, { ...common, response: answer });
    json(res, 200, answer);
  }

  async function ingestPixel(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    cors(res);
    const started = now();
    const seq = store.nextRequestSeq();
    const pixelId = url.searchParams.get('pid') ?? '';
    const image = req.method === 'GET';
    let event: Record<string, unknown> | undefined;
    if (image) event = fromImageTag(url, req.headers.referer);
    else {
      const body = await readBody(req, maxBodyBytes);
      const parsed = body === undefined ? undefined : parseJson(body);
      if (parsed && typeof parsed === 'object') event = fromPixelPayload(parsed as Record<string, unknown>);
    }
    const issues: Issue[] = event
      ? validateEvent(event, { now: now() })
      : [{ path: '', code: 'not_object', message: 'unreadable pixel event' }];
    if (!pixelId)
      issues.unshift({ path: 'pid', code: 'id_required', message: 'the pid query parameter is required' });
    if (keysByPixel && pixelId && !keysByPixel.has(pixelId)) {
      issues.unshift({ path: 'pid', code: 'id_required', message: `no pixel ${pixelId} on this account` });
    }
    const base = {
      seq,
      receivedAt: started,
      method: req.method ?? 'POST',
      path: '/v1/sdk/events',
      channel: 'pixel_sdk' as Channel,
      eventCount: 1,
      validateOnly: false,
      ...(pixelId ? { pixelId } : {}),
    };
    if (issues.length > 0 || !event) {
      const first = issues[0]!;
      const answer = {
        error: { message: `${first.path}: ${first.message}`, param: first.path, code: first.code },
      };
      store.addRequest({
        ...base,
        status: 400,
        error: { message: answer.error.message, issues },
        response: answer,
      });
      json(res, 400, answer);
      return;
    }
    store.addRequest({
      ...base,
      status: image ? 200 : 202,
      durationMs: now() - started,
      response: image ? 'a 1×1 transparent GIF' : { ok: true },
    });
    store.addEvent({
      receivedAt: started,
      pixelId,
      channel: 'pixel_sdk',
      requestSeq: seq,
      event: event as StoredEvent['event'],
    });
    if (image) {
      res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' });
      res.end(TRANSPARENT_GIF);
    } else json(res, 202, { ok: true });
  }

  function monitoring(res: ServerResponse, url: URL): void {
    const pixelId = url.searchParams.get('pid');
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 50) || 50, 1), 1000);
    const since = now() - RECENT_WINDOW_MS;
    const data = store
      .events()
      .filter((e) => (!pixelId || e.pixelId === pixelId) && e.receivedAt >= since)
      .reverse()
      .slice(0, limit)
      .map((e) => ({
        id: e.event.id,
        type: e.event.type,
        ...(e.event.custom_event_name ? { custom_event_name: e.event.custom_event_name } : {}),
        channel: e.channel,
        timestamp_ms: e.event.timestamp_ms,
        received_at_ms: e.receivedAt,
        deduplicated: e.duplicateOf !== undefined,
        has_oppref: typeof e.event.oppref === 'string',
      }));
    json(res, 200, { object: 'list', data, has_more: false });
  }

  function stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    const unsubscribe = store.subscribe((kind, payload) => {
      res.write(`event: ${kind}\ndata: ${JSON.stringify(payload ?? {})}\n\n`);
    });
    req.on('close', unsubscribe);
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    endpoint: `${url}/v1/events`,
    pixelScriptUrl: `${url}/sdk/oaiq.min.js`,
    events: () => store.events(),
    requests: () => store.requests(),
    reset: () => store.reset(),
    setFaults: (list) => faults.set(list),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const res of openResponses) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function refuse(
  record: (status: number, extra?: Partial<StoredRequest>) => StoredRequest,
  res: ServerResponse,
  status: number,
  message: string,
  code: string,
): void {
  const answer = { error: { message, type: 'invalid_request_error', code } };
  record(status, { error: { message, issues: [] }, response: answer });
  json(res, status, answer);
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function forbidden(res: ServerResponse, message: string): void {
  json(res, 403, { error: { message, type: 'forbidden' } });
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

/**
 * Why a request may not see or change the sandbox's records, or undefined when it may: the Host must
 * name this machine (or an allowed host), so a rebound DNS name is refused, and a browser request
 * must come from the sandbox's own origin.
 */
function localOnly(
  req: IncomingMessage,
  allowedHosts: ReadonlySet<string>,
  navigation: boolean,
): string | undefined {
  const host = req.headers.host ?? '';
  const name = hostName(host);
  if (!isLoopbackName(name) && !allowedHosts.has(name))
    return `this route answers only to localhost, 127.0.0.1 or [::1] (Host was "${host.slice(0, 100)}"); add the name to allowedHosts to reach it otherwise`;
  // Opening the inspector from a link elsewhere is fine: the page itself holds no data.
  if (navigation) return undefined;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`)
    return 'this route does not take requests from web pages on other origins';
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return 'this route does not take requests from web pages on other origins';
  return undefined;
}

/**
 * A state-changing control request must say it is JSON: a page on another origin cannot send that
 * content type without a CORS preflight, which these routes never grant.
 */
function controlPostRefusal(req: IncomingMessage): string | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json'
    ? undefined
    : 'send control requests with content-type: application/json';
}

function cors(res: ServerResponse): void {
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-allow-headers', 'content-type');
}

/** The body as text, or `undefined` when it exceeds `limit` (the rest is drained, not buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function fromHeader(value: string | string[] | undefined): Fault | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseJson(value);
  return parsed && typeof parsed === 'object' ? (parsed as Fault) : undefined;
}

function fromPixelPayload(body: Record<string, unknown>): Record<string, unknown> {
  const event: Record<string, unknown> = {
    id: body.event_id,
    type: body.event,
    timestamp_ms: body.timestamp_ms,
    action_source: 'web',
    source_url: body.source_url,
    data: body.data,
  };
  if (body.custom_event_name !== undefined)
    event.custom_event_name = String(body.custom_event_name).toLowerCase();
  if (typeof body.oppref === 'string' && body.oppref) event.oppref = body.oppref;
  if (body.opt_out !== undefined) event.opt_out = body.opt_out;
  if (typeof body.obref === 'string' && body.obref) event.user = { obref: body.obref };
  return event;
}

function fromImageTag(url: URL, referer: string | undefined): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) {
    const field = /^data\[(\w+)\]$/.exec(name)?.[1];
    if (!field) continue;
    if (field === 'amount') data.amount = Number(value);
    else if (field === 'contents') data.contents = parseJson(value);
    else data[field] = value;
  }
  const event: Record<string, unknown> = {
    id: url.searchParams.get('event_id') ?? crypto.randomUUID(),
    type: url.searchParams.get('event'),
    timestamp_ms: Date.now(),
    data,
  };
  if (referer) {
    const page = new URL(referer);
    event.action_source = 'web';
    event.source_url = `${page.origin}${page.pathname}`;
  }
  const custom = url.searchParams.get('custom_event_name');
  if (custom) event.custom_event_name = custom.toLowerCase();
  const oppref = url.searchParams.get('oppref');
  if (oppref) event.oppref = oppref;
  return event;
}

const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
