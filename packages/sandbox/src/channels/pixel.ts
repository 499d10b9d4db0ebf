// The stand-in pixel: its script, and the events it posts or loads as an image from a store's pages.
import type { IncomingMessage } from 'node:http';
import type { Issue } from '@chatgpt-ads/core';
import { validateEvent } from '@chatgpt-ads/core/wire';
import { json, parseJson, readBody } from '../http.js';
import { PIXEL_SCRIPT } from '../pixel-script.js';
import type { RouteCall } from '../state.js';
import type { Channel, StoredEvent } from '../store.js';

const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** `GET /sdk/oaiq.min.js`, the stand-in for OpenAI's pixel script. */
export function pixelScript({ res }: RouteCall): void {
  res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
  res.end(PIXEL_SCRIPT);
}

/**
 * `POST /v1/sdk/events` from the script, or `GET` from an image tag where scripts do not run. Both
 * store into the same first-wins dedup as the server channel, which is what a test of the two
 * channels together needs to see.
 */
export async function pixelEvents({ state, req, res, url }: RouteCall): Promise<void> {
  const started = state.now();
  const seq = state.store.nextRequestSeq();
  const pixelId = url.searchParams.get('pid') ?? '';
  const image = req.method === 'GET';
  const event = image
    ? fromImageTag(url, req.headers.referer, state.now())
    : await fromPost(req, state.maxBodyBytes);
  const issues: Issue[] = event
    ? validateEvent(event, { now: state.now() })
    : [{ path: '', code: 'not_object', message: 'unreadable pixel event' }];
  if (!pixelId)
    issues.unshift({ path: 'pid', code: 'id_required', message: 'the pid query parameter is required' });
  if (state.keysByPixel && pixelId && !state.keysByPixel.has(pixelId)) {
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
    state.store.addRequest({
      ...base,
      status: 400,
      error: { message: answer.error.message, issues },
      response: answer,
    });
    json(res, 400, answer);
    return;
  }
  state.store.addRequest({
    ...base,
    status: image ? 200 : 202,
    durationMs: state.now() - started,
    response: image ? 'a 1×1 transparent GIF' : { ok: true },
  });
  state.store.addEvent({
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

async function fromPost(req: IncomingMessage, limit: number): Promise<Record<string, unknown> | undefined> {
  const body = await readBody(req, limit);
  const parsed = body === undefined ? undefined : parseJson(body);
  return parsed && typeof parsed === 'object'
    ? fromPixelPayload(parsed as Record<string, unknown>)
    : undefined;
}

/** The script's payload in the Conversions API's event shape, so one validator judges both channels. */
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

/**
 * An image-tag hit as an event. The tag carries no time of its own, so the event happens at `now`,
 * the sandbox's clock, like every other time the sandbox writes.
 */
function fromImageTag(url: URL, referer: string | undefined, now: number): Record<string, unknown> {
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
    timestamp_ms: now,
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
