// The Conversions API endpoint, `POST /v1/events`, as servers call it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Issue } from '@chatgpt-ads/core';
import { checkIntegrationSource, validateEnvelope } from '@chatgpt-ads/core/wire';
import type { Fault } from '../faults.js';
import { json, parseJson, readBody } from '../http.js';
import type { RouteCall, SandboxState } from '../state.js';
import type { StoredEvent, StoredRequest } from '../store.js';

type RecordRequest = (status: number, extra?: Partial<StoredRequest>) => StoredRequest;

/** A batch that passed the body checks, with what the request record says about it. */
interface Batch {
  events: Array<Record<string, unknown>>;
  issues: Issue[];
  validateOnly: boolean;
  summary: Partial<StoredRequest>;
}

/** `POST /v1/events`: injected faults, then pixel and key, body size, validation, storing, the answer. */
export async function serverEvents({ state, req, res, url }: RouteCall): Promise<void> {
  const started = state.now();
  const seq = state.store.nextRequestSeq();
  const pixelId = url.searchParams.get('pid') ?? undefined;
  const record = recorder(state, seq, started, pixelId);

  if (await playFault(state, req, res, record)) return;

  const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  if (!pixelId) return refuse(record, res, 400, 'the pid query parameter is required', 'missing_pid');
  if (state.keysByPixel && !state.keysByPixel.has(pixelId)) {
    return refuse(record, res, 404, `Not found: no pixel ${pixelId} on this account`, 'pixel_not_found');
  }
  if (!auth || (state.keysByPixel && state.keysByPixel.get(pixelId) !== auth)) {
    return refuse(record, res, 401, 'Invalid Conversions API key', 'invalid_api_key');
  }

  const body = await readBody(req, state.maxBodyBytes);
  if (body === undefined) {
    const message = `request body is larger than ${state.maxBodyBytes} bytes`;
    return refuse(record, res, 413, message, 'request_too_large');
  }
  const parsed = parseJson(body);
  if (parsed === undefined)
    return refuse(record, res, 400, 'the request body is not valid JSON', 'invalid_json');

  const batch = checkBatch(state, parsed);
  if (batch.issues.length > 0) {
    const answer = invalidAnswer(batch.issues);
    record(400, {
      ...batch.summary,
      error: { message: answer.error.message, issues: batch.issues },
      response: answer,
    });
    json(res, 400, answer);
    return;
  }
  let duplicates = 0;
  if (!batch.validateOnly) {
    for (const event of batch.events) {
      const stored = state.store.addEvent({
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
    received: batch.events.length,
    duplicates,
    validate_only: batch.validateOnly,
  };
  // Recorded after its events, so the record can say what the sandbox answered.
  record(200, { ...batch.summary, response: answer });
  json(res, 200, answer);
}

/** Records the request once its outcome is known, timed from when it arrived. */
function recorder(
  state: SandboxState,
  seq: number,
  started: number,
  pixelId: string | undefined,
): RecordRequest {
  return (status, extra = {}) => {
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
      durationMs: state.now() - started,
    };
    state.store.addRequest(request);
    return request;
  };
}

/**
 * Plays the fault for this request: the `x-sandbox-fault` header wins over the plan, so one test can
 * fail one request without touching the others. True when the fault was the whole answer.
 */
async function playFault(
  state: SandboxState,
  req: IncomingMessage,
  res: ServerResponse,
  record: RecordRequest,
): Promise<boolean> {
  const fault = fromHeader(req.headers['x-sandbox-fault']) ?? state.faults.next();
  if (!fault) return false;
  if ('latencyMs' in fault) {
    await state.delay(fault.latencyMs);
    return false;
  }
  if ('reset' in fault) {
    record(0, { fault: 'connection reset' });
    req.socket.destroy();
    return true;
  }
  if ('hang' in fault) {
    record(0, { fault: 'hang' });
    return true; // never answered; the client's timeout decides
  }
  if ('status' in fault) {
    await readBody(req, state.maxBodyBytes);
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
    const answer = fault.body ?? { error: { message: `injected ${fault.status}`, type: 'server_error' } };
    record(fault.status, { fault: `status ${fault.status}`, response: answer });
    json(res, fault.status, answer, headers);
    return true;
  }
  return false;
}

/** Validates a parsed body as OpenAI does, plus the ids a fault rejects. */
function checkBatch(state: SandboxState, parsed: unknown): Batch {
  // The API keeps the first three values of a list and drops the rest without an error.
  const issues = validateEnvelope(parsed, { now: state.now() }).filter(
    (issue) => issue.code !== 'list_too_long',
  );
  const envelope = parsed as {
    events?: Array<Record<string, unknown>>;
    validate_only?: boolean;
    integration_source?: string;
  };
  const events = Array.isArray(envelope.events) ? envelope.events : [];
  const rejected = events.findIndex((event) => state.faults.rejected(event?.id));
  if (rejected !== -1) {
    issues.unshift({
      path: `events[${rejected}].id`,
      code: 'rejected_by_fault' as Issue['code'],
      message: 'this event id is rejected by a sandbox fault',
    });
  }
  const validateOnly = envelope.validate_only === true;
  const integration = checkIntegrationSource(envelope.integration_source);
  const summary = {
    eventCount: events.length,
    validateOnly,
    ...(envelope.integration_source !== undefined && integration.ok
      ? { integrationSource: integration.value }
      : {}),
    ...(rejected !== -1 ? { fault: `rejected id ${String(events[rejected]?.id)}` } : {}),
  };
  return { events, issues, validateOnly, summary };
}

/** OpenAI's 400 body: the first issue up front, every issue in `errors`. */
function invalidAnswer(issues: readonly Issue[]) {
  const first = issues[0]!;
  return {
    error: {
      message: `${first.path}: ${first.message}`,
      type: 'invalid_request_error',
      code: first.code,
      param: first.path,
      errors: issues.map((issue) => ({ param: issue.path, code: issue.code, message: issue.message })),
    },
  };
}

function refuse(
  record: RecordRequest,
  res: ServerResponse,
  status: number,
  message: string,
  code: string,
): void {
  const answer = { error: { message, type: 'invalid_request_error', code } };
  record(status, { error: { message, issues: [] }, response: answer });
  json(res, status, answer);
}

function fromHeader(value: string | string[] | undefined): Fault | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseJson(value);
  return parsed && typeof parsed === 'object' ? (parsed as Fault) : undefined;
}
