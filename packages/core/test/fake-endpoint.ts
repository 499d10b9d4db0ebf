// A scripted stand-in for POST /v1/events, injected as `fetch`. It records every request and
// answers through a script, so transport tests run in-process and never touch the network.
import type { WireEnvelope } from '../src/schema.js';

export interface RecordedRequest {
  url: URL;
  headers: Headers;
  body: string;
  envelope: WireEnvelope;
  status: number;
  at: number;
}

export type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | 'network-error'
  | 'hang';

export type Script = (
  envelope: WireEnvelope,
  request: { index: number; url: URL; headers: Headers },
) => Reply;

export function fakeEndpoint(script: Script = () => ({ status: 200, body: {} })) {
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const body = String(init?.body);
    const envelope = JSON.parse(body) as WireEnvelope;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await Promise.resolve();
      const reply = script(envelope, { index: requests.length, url, headers });
      if (reply === 'network-error') {
        requests.push({ url, headers, body, envelope, status: 0, at: Date.now() });
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      if (reply === 'hang') {
        requests.push({ url, headers, body, envelope, status: 0, at: Date.now() });
        return await new Promise<Response>((_, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        });
      }
      requests.push({ url, headers, body, envelope, status: reply.status, at: Date.now() });
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      return new Response(text, {
        status: reply.status,
        headers: reply.headers ?? { 'content-type': 'application/json' },
      });
    } finally {
      inFlight--;
    }
  };
  return {
    fetch: fetch as typeof globalThis.fetch,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    /** Ids the endpoint accepted (2xx), in order, with repeats. */
    acceptedIds(): string[] {
      return requests
        .filter((r) => r.status >= 200 && r.status < 300)
        .flatMap((r) => r.envelope.events.map((e) => e.id));
    },
  };
}

/** An endpoint that rejects the events whose id is in `poison`, like OpenAI: all or nothing. */
export function rejecting(poison: Set<string>, options: { nameIndex: boolean }): Script {
  return (envelope) => {
    const index = envelope.events.findIndex((event) => poison.has(event.id));
    if (index === -1) return { status: 200, body: {} };
    const error = options.nameIndex
      ? { message: 'Invalid value for id', param: `events[${index}].id`, code: 'invalid_value' }
      : { message: 'Invalid request', code: 'invalid_request' };
    return { status: 400, body: { error } };
  };
}
