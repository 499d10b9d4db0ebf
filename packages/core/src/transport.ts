/** Longest wait a `Retry-After` can impose. @example MAX_RETRY_AFTER_MS; // 300000 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * How one `POST /v1/events` ended, classified per the project's response policy.
 *
 * @example
 * const outcome: SendOutcome = { kind: 'retry', status: 503, message: 'Service Unavailable' };
 */
export type SendOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'invalid'; status: number; message: string; eventIndexes: number[] }
  | { kind: 'too_large'; status: number; message: string }
  | { kind: 'halt'; status: number; message: string }
  | { kind: 'retry'; status?: number; message: string; retryAfterMs?: number };

/**
 * Everything one request needs. The key travels only in the `Authorization` header.
 *
 * @example
 * await postEvents({ fetch, endpoint: 'http://127.0.0.1:8787/v1/events', pixelId: 'px', apiKey: 'k',
 *   body: '{"events":[…]}', timeoutMs: 10_000, now: Date.now });
 */
export interface PostRequest {
  fetch: typeof fetch;
  endpoint: string;
  pixelId: string;
  apiKey: string;
  body: string;
  timeoutMs: number;
  /** Clock used to read an HTTP-date `Retry-After`. */
  now: () => number;
}

/**
 * Sends one request and classifies the answer: 2xx delivered; 400/422 invalid (with the failing
 * event indexes when the body names them); 413 too large; 401/403/404 and other 4xx/3xx halt;
 * 408/425/429/5xx, network errors and timeouts retry (with `Retry-After`, capped at 5 minutes).
 * Never throws.
 *
 * @example
 * const outcome = await postEvents(request);
 * if (outcome.kind === 'retry') console.log(outcome.retryAfterMs);
 */
export async function postEvents(request: PostRequest): Promise<SendOutcome> {
  const url = new URL(request.endpoint);
  url.searchParams.set('pid', request.pixelId);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), request.timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await request.fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${request.apiKey}`, 'content-type': 'application/json' },
      body: request.body,
      signal: controller.signal,
      redirect: 'manual',
    });
    text = await response.text();
  } catch (error) {
    const timedOut = controller.signal.aborted;
    return {
      kind: 'retry',
      message: timedOut ? `timed out after ${request.timeoutMs} ms` : describeNetworkError(error),
    };
  } finally {
    clearTimeout(timer);
  }

  const status = response.status;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const message = errorMessage(text, response.statusText);
  if (status === 400 || status === 422)
    return { kind: 'invalid', status, message, eventIndexes: failingEventIndexes(text) };
  if (status === 413) return { kind: 'too_large', status, message };
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), request.now());
    return { kind: 'retry', status, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return { kind: 'halt', status, message };
}

/**
 * Reads an error body leniently: `{error:{message}}`, `{error:"…"}`, `{message:"…"}` or plain text.
 *
 * @example
 * errorMessage('{"error":{"message":"bad currency"}}', 'Bad Request'); // 'bad currency'
 */
export function errorMessage(body: string, fallback: string): string {
  const parsed = parseJson(body);
  if (parsed && typeof parsed === 'object') {
    const record = parsed as Record<string, unknown>;
    const error = record.error;
    if (typeof error === 'string') return error;
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
      const { message, param } = error as { message: string; param?: unknown };
      return typeof param === 'string' && !message.includes(param) ? `${param}: ${message}` : message;
    }
    if (typeof record.message === 'string') return record.message;
  }
  const trimmed = body.trim();
  return trimmed ? trimmed.slice(0, 500) : fallback || 'no message';
}

/**
 * The `events[i]` indexes an error body names (in `param`, `errors[].param` or the message).
 * OpenAI does not document this; when nothing is named the client bisects instead.
 *
 * @example
 * failingEventIndexes('{"error":{"param":"events[17].data.currency"}}'); // [17]
 */
export function failingEventIndexes(body: string): number[] {
  const indexes = new Set<number>();
  for (const match of body.matchAll(/events\[(\d+)\]/g)) indexes.add(Number(match[1]));
  return [...indexes].sort((a, b) => a - b);
}

/**
 * Parses `Retry-After` (seconds or HTTP date) into milliseconds, capped at 5 minutes.
 *
 * @example
 * parseRetryAfter('3', Date.now()); // 3000
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  let ms: number;
  if (Number.isFinite(seconds) && seconds >= 0) ms = seconds * 1000;
  else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${error.message} (${cause.code})` : error.message;
  }
  return 'network error';
}
