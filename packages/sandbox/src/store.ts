import type { Issue } from '@chatgpt-ads/core';
import { dedupKey } from '@chatgpt-ads/core/wire';

/**
 * Where an event came from, as OpenAI's monitoring endpoint names it.
 *
 * @example
 * const channel: Channel = 'pixel_sdk';
 */
export type Channel = 'server_to_server' | 'pixel_sdk';

/**
 * One event the sandbox received and kept. `duplicateOf` is set when an earlier event had the same
 * dedup key (pixel id + event name or custom name + id): OpenAI keeps the first and ignores this one.
 *
 * @example
 * const first = sandbox.events().find((e) => e.event.id === 'order_1001' && !e.duplicateOf);
 */
export interface StoredEvent {
  seq: number;
  receivedAt: number;
  pixelId: string;
  channel: Channel;
  requestSeq: number;
  key: string;
  duplicateOf?: number;
  event: Record<string, unknown> & { id: string; type: string };
}

/**
 * One request the sandbox answered, with what it decided.
 *
 * @example
 * const failed = sandbox.requests().filter((r) => r.status >= 400);
 */
export interface StoredRequest {
  seq: number;
  receivedAt: number;
  method: string;
  path: string;
  channel: Channel;
  pixelId?: string;
  status: number;
  eventCount: number;
  validateOnly: boolean;
  integrationSource?: string;
  /** The fault that was injected, if any. */
  fault?: string;
  /** Why the request was refused, in plain words, with every issue found. */
  error?: { message: string; issues: Issue[] };
  durationMs?: number;
  /** What the sandbox answered: the JSON body, or a description of a non-JSON one; absent when it did not answer. */
  response?: unknown;
}

type Listener = (kind: 'event' | 'request' | 'reset', payload?: StoredEvent | StoredRequest) => void;

/** Events and requests in arrival order, with OpenAI's first-wins dedup across channels. */
export class SandboxStore {
  readonly #events: StoredEvent[] = [];
  readonly #requests: StoredRequest[] = [];
  readonly #firstByKey = new Map<string, number>();
  readonly #listeners = new Set<Listener>();
  #seq = 0;

  constructor(private readonly limit: number) {}

  nextRequestSeq(): number {
    return ++this.#seq;
  }

  addRequest(request: StoredRequest): void {
    this.#requests.push(request);
    if (this.#requests.length > this.limit) this.#requests.shift();
    this.#emit('request', request);
  }

  addEvent(input: Omit<StoredEvent, 'seq' | 'key' | 'duplicateOf'>): StoredEvent {
    const key = dedupKey(input.pixelId, {
      type: input.event.type as never,
      id: input.event.id,
      custom_event_name:
        typeof input.event.custom_event_name === 'string'
          ? input.event.custom_event_name.toLowerCase()
          : undefined,
    });
    const seq = ++this.#seq;
    const first = this.#firstByKey.get(key);
    const stored: StoredEvent = {
      ...input,
      seq,
      key,
      ...(first !== undefined ? { duplicateOf: first } : {}),
    };
    if (first === undefined) this.#firstByKey.set(key, seq);
    this.#events.push(stored);
    // Old bodies go beyond the limit; dedup keys stay, so first-wins holds for the whole run.
    if (this.#events.length > this.limit) this.#events.shift();
    this.#emit('event', stored);
    return stored;
  }

  events(): StoredEvent[] {
    return [...this.#events];
  }

  requests(): StoredRequest[] {
    return [...this.#requests];
  }

  reset(): void {
    this.#events.length = 0;
    this.#requests.length = 0;
    this.#firstByKey.clear();
    this.#emit('reset');
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(kind: 'event' | 'request' | 'reset', payload?: StoredEvent | StoredRequest): void {
    for (const listener of this.#listeners) listener(kind, payload);
  }
}
