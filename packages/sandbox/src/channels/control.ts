// What this machine uses to look at and steer the sandbox: the inspector page, the monitoring list,
// the `/_sandbox/*` JSON API and the live event stream. The dispatcher lets only this machine in.
import type { Fault } from '../faults.js';
import { json, parseJson, readBody } from '../http.js';
import { INSPECTOR_CSP, INSPECTOR_HTML } from '../inspector.js';
import type { RouteCall } from '../state.js';

/** OpenAI's monitoring endpoint shows recent events only. */
const RECENT_WINDOW_MS = 15 * 60_000;

/** `GET /` and `/index.html`: the page holds no data, it reads the JSON API and the stream. */
export function inspectorPage({ res }: RouteCall): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': INSPECTOR_CSP,
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
  res.end(INSPECTOR_HTML);
}

/** `GET /v1/conversions/events`: the newest events first, in the shape of OpenAI's monitoring list. */
export function monitoring({ state, res, url }: RouteCall): void {
  const pixelId = url.searchParams.get('pid');
  const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 50) || 50, 1), 1000);
  const since = state.now() - RECENT_WINDOW_MS;
  const data = state.store
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

export function listEvents({ state, res }: RouteCall): void {
  json(res, 200, { data: state.store.events() });
}

export function listRequests({ state, res }: RouteCall): void {
  json(res, 200, { data: state.store.requests() });
}

export function describeFaults({ state, res }: RouteCall): void {
  json(res, 200, state.faults.describe());
}

export function reset({ state, res }: RouteCall): void {
  state.store.reset();
  json(res, 200, { ok: true });
}

/** `POST /_sandbox/faults`: replaces the plan, as `sandbox.setFaults()` does, for scripts in other processes. */
export async function setFaults({ state, req, res }: RouteCall): Promise<void> {
  const body = await readBody(req, state.maxBodyBytes);
  const parsed = body === undefined ? undefined : parseJson(body);
  if (!Array.isArray(parsed)) return json(res, 400, { error: { message: 'send a JSON array of faults' } });
  state.faults.set(parsed as Fault[]);
  json(res, 200, state.faults.describe());
}

/** `GET /_sandbox/stream`: server-sent events, so the inspector shows each request as it lands. */
export function stream({ state, req, res }: RouteCall): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  res.write('retry: 1000\n\n');
  const unsubscribe = state.store.subscribe((kind, payload) => {
    res.write(`event: ${kind}\ndata: ${JSON.stringify(payload ?? {})}\n\n`);
  });
  req.on('close', unsubscribe);
}
