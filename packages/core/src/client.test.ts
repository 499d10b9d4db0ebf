import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeEndpoint, rejecting } from '../test/fake-endpoint.js';
import { createConversions } from './client.js';
import type { ConversionsOptions, Logger } from './config.js';
import { MemoryOutbox } from './outbox.js';

const context = {
  consent: 'granted' as const,
  oppref: 'gAAAAB-click',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0',
  sourceUrl: 'https://shop.example/checkout',
};
const SECRET = 'sk-conversions-SECRET-0123456789';

function quietLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  return { logger, lines };
}

function client(endpoint: ReturnType<typeof fakeEndpoint>, overrides: Partial<ConversionsOptions> = {}) {
  const { logger, lines } = quietLogger();
  const conversions = createConversions({
    pixelId: 'px_test',
    apiKey: SECRET,
    endpoint: 'http://127.0.0.1:9/v1/events',
    fetch: endpoint.fetch,
    logger,
    random: () => 0.5,
    ...overrides,
  });
  return { conversions, lines };
}

async function trackMany(conversions: ReturnType<typeof createConversions>, count: number, prefix = 'order') {
  const results = [];
  for (let i = 0; i < count; i++) {
    results.push(
      await conversions.track(
        {
          type: 'order_created',
          id: `${prefix}_${i}`,
          data: { amount: 1000 + i, currency: 'USD' },
          user: { email: `buyer${i}@example.com` },
        },
        context,
      ),
    );
  }
  return results;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('delivery', () => {
  it('sends the wire envelope to ?pid= with the bearer key', async () => {
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint);
    const result = await conversions.track({ type: 'lead_created', id: 'lead_1' }, context);
    expect(result).toEqual({ status: 'queued', id: 'lead_1', warnings: [] });
    await conversions.flush();
    const [request] = endpoint.requests;
    expect(request?.url.searchParams.get('pid')).toBe('px_test');
    expect(request?.headers.get('authorization')).toBe(`Bearer ${SECRET}`);
    expect(request?.headers.get('content-type')).toBe('application/json');
    expect(request?.envelope.events).toEqual([
      expect.objectContaining({
        id: 'lead_1',
        type: 'lead_created',
        oppref: 'gAAAAB-click',
        action_source: 'web',
      }),
    ]);
    expect(conversions.stats()).toMatchObject({ accepted: 1, delivered: 1, queued: 0, requests: 1 });
  });

  it('batches at most 1,000 events a request and respects concurrency', async () => {
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, { batch: { flushIntervalMs: 60_000, concurrency: 2 } });
    await trackMany(conversions, 2500);
    await conversions.flush();
    expect(endpoint.requests.map((r) => r.envelope.events.length)).toEqual([1000, 1000, 500]);
    expect(endpoint.maxInFlight).toBeLessThanOrEqual(2);
    expect(new Set(endpoint.acceptedIds()).size).toBe(2500);
  });

  it('keeps batching full while a batch is in flight (one request per 1,000 events)', async () => {
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, { batch: { flushIntervalMs: 60_000 } });
    // No identifiers to hash: each track settles in microtasks, interleaved with in-flight sends.
    for (let i = 0; i < 5000; i++)
      await conversions.track({ type: 'lead_created', id: `lead_${i}` }, context);
    await conversions.flush();
    expect(endpoint.requests.map((r) => r.envelope.events.length)).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('sends a steady stream in full batches: about one request per 1,000 events', async () => {
    vi.useFakeTimers();
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint);
    let n = 0;
    for (let tick = 0; tick < 1000; tick++) {
      // 20 events every 10 ms: 2,000 events a second for 10 seconds.
      for (let i = 0; i < 20; i++) await conversions.track({ type: 'lead_created', id: `l${n++}` }, context);
      await vi.advanceTimersByTimeAsync(10);
    }
    const flushed = conversions.flush();
    await vi.advanceTimersByTimeAsync(2_000);
    await flushed;
    expect(endpoint.acceptedIds()).toHaveLength(20_000);
    expect(endpoint.requests.length).toBeLessThanOrEqual(21);
  });

  it('keeps each request within the byte budget', async () => {
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, { batch: { maxBytes: 8_000, flushIntervalMs: 60_000 } });
    await trackMany(conversions, 100);
    await conversions.flush();
    expect(endpoint.requests.length).toBeGreaterThan(1);
    for (const request of endpoint.requests)
      expect(new TextEncoder().encode(request.body).length).toBeLessThanOrEqual(8_000);
    expect(endpoint.acceptedIds()).toHaveLength(100);
  });

  it('flushes a partial batch after flushIntervalMs without being asked', async () => {
    vi.useFakeTimers();
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, { batch: { flushIntervalMs: 2_000 } });
    await conversions.track({ type: 'lead_created', id: 'l1' }, context);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(endpoint.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(endpoint.requests).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0); // nothing queued, no interval left running
  });

  it('sends events that share a dedup key once', async () => {
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint);
    const first = await conversions.track({ type: 'order_created', id: 'o1' }, context);
    const second = await conversions.track({ type: 'order_created', id: 'o1' }, context);
    const otherName = await conversions.track({ type: 'checkout_started', id: 'o1' }, context);
    expect(first).toMatchObject({ status: 'queued' });
    expect(second).toMatchObject({ status: 'queued', duplicate: true });
    expect(otherName).toMatchObject({ status: 'queued' });
    expect(otherName).not.toHaveProperty('duplicate');
    await conversions.flush();
    expect(endpoint.acceptedIds()).toEqual(['o1', 'o1']);
    expect(conversions.stats()).toMatchObject({ accepted: 2, deduplicated: 1, delivered: 2 });
  });
});

describe('failure isolation (400/422)', () => {
  const poison = new Set(['order_17', 'order_500', 'order_998']);

  it('1,000 events with 3 invalid: 997 delivered, 3 dead-lettered with the message, at most 40 requests', async () => {
    const endpoint = fakeEndpoint(rejecting(poison, { nameIndex: true }));
    const { conversions } = client(endpoint, { batch: { flushIntervalMs: 60_000 } });
    await trackMany(conversions, 1000);
    const stats = await conversions.flush();
    expect(stats).toMatchObject({
      delivered: 997,
      deadLettered: 3,
      deadLetteredByReason: { invalid: 3 },
      queued: 0,
    });
    expect(endpoint.requests.length).toBeLessThanOrEqual(40);
    console.info(`3 poison events among 1,000, error names the event: ${endpoint.requests.length} requests`);
    const letters = await conversions.deadLetters();
    expect(letters.map((l) => l.record.id).sort()).toEqual([...poison].sort());
    expect(letters.every((l) => l.reason === 'invalid' && l.message.includes('Invalid value for id'))).toBe(
      true,
    );
    const accepted = endpoint.acceptedIds();
    expect(accepted).toHaveLength(997);
    expect(new Set(accepted).size).toBe(997);
  });

  it('isolates the same events by bisection when the error names no event', async () => {
    const endpoint = fakeEndpoint(rejecting(poison, { nameIndex: false }));
    const { conversions } = client(endpoint, { batch: { flushIntervalMs: 60_000 } });
    await trackMany(conversions, 1000);
    const stats = await conversions.flush();
    expect(stats).toMatchObject({ delivered: 997, deadLettered: 3, queued: 0 });
    expect(new Set(endpoint.acceptedIds()).size).toBe(997);
    // k culprits among n cost about k·(log2 n + 1) requests: 34 here.
    expect(endpoint.requests.length).toBeLessThanOrEqual(40);
    console.info(`3 poison events among 1,000, error names nothing: ${endpoint.requests.length} requests`);
  });

  it('dead-letters a lone invalid event with the endpoint message (422, plain text)', async () => {
    const endpoint = fakeEndpoint(() => ({
      status: 422,
      body: 'currency mismatch',
      headers: { 'content-type': 'text/plain' },
    }));
    const hook = vi.fn();
    const { conversions } = client(endpoint, { hooks: { deadLettered: hook } });
    await conversions.track({ type: 'lead_created', id: 'bad' }, context);
    expect(await conversions.flush()).toMatchObject({
      deadLettered: 1,
      deadLetteredByReason: { invalid: 1 },
      queued: 0,
    });
    expect(hook).toHaveBeenCalledWith({
      id: 'bad',
      key: expect.any(String),
      reason: 'invalid',
      message: 'currency mismatch',
    });
  });

  it('splits on 413 until batches fit', async () => {
    const endpoint = fakeEndpoint((envelope) =>
      envelope.events.length > 250 ? { status: 413 } : { status: 200 },
    );
    const { conversions } = client(endpoint, { batch: { flushIntervalMs: 60_000 } });
    await trackMany(conversions, 1000);
    const stats = await conversions.flush();
    expect(stats.delivered).toBe(1000);
    expect(endpoint.requests.filter((r) => r.status === 200).map((r) => r.envelope.events.length)).toEqual([
      250, 250, 250, 250,
    ]);
  });
});

describe('retries', () => {
  it('rides out a 60-second outage of 503s: every event delivered, each id accepted once, identical bytes', async () => {
    vi.useFakeTimers();
    const start = Date.now();
    const endpoint = fakeEndpoint(() =>
      Date.now() < start + 60_000 ? { status: 503, body: { error: 'overloaded' } } : { status: 200 },
    );
    const { conversions } = client(endpoint, { random: Math.random, batch: { flushIntervalMs: 500 } });
    // Traffic keeps arriving during the outage.
    for (let second = 0; second < 70; second++) {
      await trackMany(conversions, 20, `s${second}`);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const flushed = conversions.flush();
    await vi.advanceTimersByTimeAsync(120_000);
    const stats = await flushed;
    expect(stats).toMatchObject({ accepted: 1400, delivered: 1400, queued: 0, deadLettered: 0 });
    expect(stats.retried).toBeGreaterThan(0);
    const accepted = endpoint.acceptedIds();
    expect(accepted).toHaveLength(1400);
    expect(new Set(accepted).size).toBe(1400);
    // Every attempt for an event carried the same bytes.
    const bytesById = new Map<string, Set<string>>();
    for (const request of endpoint.requests) {
      for (const event of request.envelope.events) {
        const set = bytesById.get(event.id) ?? new Set();
        set.add(JSON.stringify(event));
        bytesById.set(event.id, set);
      }
    }
    expect([...bytesById.values()].every((set) => set.size === 1)).toBe(true);
    expect(endpoint.requests.some((r) => r.status === 503)).toBe(true);
  });

  it('dead-letters an event as max_attempts after retry.maxAttempts sends, and says so', async () => {
    vi.useFakeTimers();
    const endpoint = fakeEndpoint(() => ({ status: 503, body: { error: 'overloaded' } }));
    const deadLettered: string[] = [];
    const { conversions, lines } = client(endpoint, {
      retry: { maxAttempts: 3 },
      hooks: { deadLettered: ({ id, reason }) => deadLettered.push(`${id}:${reason}`) },
    });
    await conversions.track({ type: 'lead_created', id: 'l1' }, context);
    const flushed = conversions.flush();
    await vi.advanceTimersByTimeAsync(60_000);
    const stats = await flushed;
    expect(endpoint.requests).toHaveLength(3);
    expect(stats).toMatchObject({ accepted: 1, queued: 0, delivered: 0, deadLettered: 1, retried: 2 });
    expect(stats.deadLetteredByReason.max_attempts).toBe(1);
    expect(deadLettered).toEqual(['l1:max_attempts']);
    const [letter] = await conversions.deadLetters();
    expect(letter).toMatchObject({ reason: 'max_attempts', record: { attempts: 3 } });
    expect(letter?.message).toMatch(/after 3 attempt\(s\); last answer: .*overloaded/);
    expect(lines.some((line) => line.includes('dead-lettered 1 event(s) as max_attempts'))).toBe(true);
    await conversions.shutdown();
  });

  it('honours Retry-After', async () => {
    vi.useFakeTimers();
    const endpoint = fakeEndpoint(({ events }, { index }) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '7' } } : { status: events.length ? 200 : 500 },
    );
    const { conversions } = client(endpoint);
    await conversions.track({ type: 'lead_created', id: 'l1' }, context);
    const flushed = conversions.flush();
    await vi.advanceTimersByTimeAsync(6_999);
    expect(endpoint.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await flushed;
    expect(endpoint.requests).toHaveLength(2);
    expect(endpoint.requests[1]!.at - endpoint.requests[0]!.at).toBe(7_000);
  });

  it('caps Retry-After at 5 minutes', async () => {
    vi.useFakeTimers();
    const endpoint = fakeEndpoint((_, { index }) =>
      index === 0 ? { status: 503, headers: { 'retry-after': '86400' } } : { status: 200 },
    );
    const { conversions } = client(endpoint);
    await conversions.track({ type: 'lead_created', id: 'l1' }, context);
    const flushed = conversions.flush();
    await vi.advanceTimersByTimeAsync(300_000);
    await flushed;
    expect(endpoint.requests[1]!.at - endpoint.requests[0]!.at).toBe(300_000);
  });

  it('retries network errors and timeouts', async () => {
    vi.useFakeTimers();
    const endpoint = fakeEndpoint((_, { index }) =>
      index === 0 ? 'network-error' : index === 1 ? 'hang' : { status: 200 },
    );
    const { conversions } = client(endpoint, { retry: { timeoutMs: 3_000, baseDelayMs: 100 } });
    await conversions.track({ type: 'lead_created', id: 'l1' }, context);
    const flushed = conversions.flush();
    await vi.advanceTimersByTimeAsync(10_000);
    const stats = await flushed;
    expect(stats).toMatchObject({ delivered: 1, retried: 2 });
    expect(endpoint.requests).toHaveLength(3);
  });

  it('dead-letters events that went stale while waiting and never sends them', async () => {
    vi.useFakeTimers();
    const start = Date.now();
    const endpoint = fakeEndpoint(() =>
      Date.now() < start + 20 * 60_000 ? { status: 503 } : { status: 200 },
    );
    const { conversions } = client(endpoint, { retry: { maxDelayMs: 30_000 } });
    const old = start - 7 * 86_400_000 + 10 * 60_000; // 10 minutes from the 7-day limit
    await conversions.track({ type: 'lead_created', id: 'old', timestampMs: old }, context);
    await conversions.track({ type: 'lead_created', id: 'new' }, context);
    const flushed = conversions.flush();
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    const stats = await flushed;
    expect(stats).toMatchObject({
      delivered: 1,
      deadLettered: 1,
      deadLetteredByReason: { stale: 1 },
      queued: 0,
    });
    expect(endpoint.acceptedIds()).toEqual(['new']);
  });
});

describe('halting on configuration errors', () => {
  it.each([401, 403, 404])(
    '%i halts sending, keeps every event queued and says so loudly',
    async (status) => {
      let broken = true;
      const endpoint = fakeEndpoint(() =>
        broken ? { status, body: { error: { message: 'Invalid API key' } } } : { status: 200 },
      );
      const halted = vi.fn();
      const { conversions, lines } = client(endpoint, {
        hooks: { halted },
        batch: { maxEvents: 100, flushIntervalMs: 60_000 },
      });
      await trackMany(conversions, 250);
      const stats = await conversions.flush();
      expect(stats).toMatchObject({
        accepted: 250,
        queued: 250,
        delivered: 0,
        deadLettered: 0,
        halted: { status, message: 'Invalid API key' },
      });
      expect(endpoint.requests.length).toBeLessThanOrEqual(2);
      expect(halted).toHaveBeenCalledTimes(1);
      expect(lines.some((l) => l.startsWith('error') && l.includes(`HTTP ${status}`))).toBe(true);
      expect(lines.join('\n')).not.toContain(SECRET);
      // Further events wait too; after the fix, resume() delivers them all.
      await conversions.track({ type: 'lead_created', id: 'late' }, context);
      broken = false;
      conversions.resume();
      const after = await conversions.flush();
      expect(after).toMatchObject({ delivered: 251, queued: 0 });
      expect(after.halted).toBeUndefined();
    },
  );
});

describe('track never throws and never blocks on the network', () => {
  it('resolves before the endpoint answers', async () => {
    let answer: (() => void) | undefined;
    const endpoint = fakeEndpoint();
    const slowFetch: typeof fetch = async (...args) => {
      await new Promise<void>((resolve) => {
        answer = resolve;
      });
      return endpoint.fetch(...args);
    };
    const { conversions } = client(endpoint, { fetch: slowFetch, batch: { maxEvents: 1 } });
    const result = await conversions.track({ type: 'lead_created', id: 'l1' }, context);
    expect(result.status).toBe('queued');
    expect(conversions.stats().delivered).toBe(0);
    await vi.waitFor(() => expect(answer).toBeDefined());
    answer?.();
    await conversions.flush();
    expect(conversions.stats().delivered).toBe(1);
  });

  it('returns typed issues for bad input', async () => {
    const { conversions } = client(fakeEndpoint());
    const results = await Promise.all([
      conversions.track({ type: 'order_created', data: { amount: 12.5, currency: 'USD' } }, context),
      conversions.track(undefined as never, context),
      conversions.track({ type: 'nope' } as never, context),
      conversions.track({ type: 'lead_created', user: 'alex@example.com' } as never, context),
    ]);
    expect(results.map((r) => r.status)).toEqual(['refused', 'refused', 'refused', 'queued']);
    expect(results[0]).toMatchObject({ issues: [{ path: 'data.amount', code: 'not_integer' }] });
  });

  it('skips without consent and counts the deciding source', async () => {
    const endpoint = fakeEndpoint();
    const skipped = vi.fn();
    const { conversions } = client(endpoint, { hooks: { skipped } });
    expect(
      await conversions.track(
        { type: 'lead_created' },
        { ...context, consent: { state: 'denied', source: 'gpc' } },
      ),
    ).toEqual({
      status: 'skipped',
      reason: 'consent',
      source: 'gpc',
    });
    expect(
      await conversions.track({ type: 'lead_created' }, { ...context, consent: undefined }),
    ).toMatchObject({ status: 'skipped', source: 'none' });
    const optOut = client(endpoint, { consent: { mode: 'opt-out' } }).conversions;
    expect(await optOut.track({ type: 'lead_created' }, { ...context, consent: undefined })).toMatchObject({
      status: 'queued',
    });
    expect(conversions.stats()).toMatchObject({
      skipped: 2,
      skippedBySource: { gpc: 1, none: 1 },
      accepted: 0,
    });
    expect(skipped).toHaveBeenCalledWith({ reason: 'consent', source: 'gpc', state: 'denied' });
    await optOut.shutdown();
  });

  it('refuses new events when the outbox is full instead of growing without bound', async () => {
    const { conversions } = client(fakeEndpoint(), {
      outbox: new MemoryOutbox({ capacity: 3 }),
      batch: { flushIntervalMs: 60_000 },
    });
    const results = await trackMany(conversions, 4);
    expect(results.map((r) => r.status)).toEqual(['queued', 'queued', 'queued', 'refused']);
    expect(results[3]).toMatchObject({ issues: [{ code: 'queue_full' }] });
    await conversions.shutdown();
  });
});

describe('shutdown and secrets', () => {
  it('delivers what is queued, then stops every timer and refuses new events', async () => {
    vi.useFakeTimers();
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, { batch: { flushIntervalMs: 3_600_000 } });
    await trackMany(conversions, 10);
    const done = conversions.shutdown({ timeoutMs: 5_000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(await done).toMatchObject({ delivered: 10, queued: 0 });
    expect(vi.getTimerCount()).toBe(0);
    expect(await conversions.track({ type: 'lead_created' }, context)).toMatchObject({
      status: 'refused',
      issues: [{ code: 'closed' }],
    });
  });

  it('gives up at the deadline and reports what is still queued', async () => {
    vi.useFakeTimers();
    const endpoint = fakeEndpoint(() => ({ status: 503 }));
    const { conversions, lines } = client(endpoint);
    await trackMany(conversions, 5);
    const done = conversions.shutdown({ timeoutMs: 2_000 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await done).toMatchObject({ queued: 5, delivered: 0 });
    expect(lines.some((l) => l.includes('5 event(s) still queued'))).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never exposes the API key', async () => {
    const endpoint = fakeEndpoint(() => ({ status: 401, body: { error: 'bad key' } }));
    const { conversions, lines } = client(endpoint);
    await conversions.track({ type: 'lead_created' }, context);
    await conversions.flush();
    expect(JSON.stringify(conversions)).not.toContain(SECRET);
    expect(JSON.stringify(conversions.stats())).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain(SECRET);
    const { inspect } = await import('node:util');
    expect(inspect(conversions)).not.toContain(SECRET);
    expect(() => createConversions({ pixelId: 'p', apiKey: SECRET, endpoint: 'not a url' })).toThrow(
      /endpoint/,
    );
    try {
      createConversions({ pixelId: 'p', apiKey: SECRET, endpoint: 'nope' });
    } catch (error) {
      expect(String(error)).not.toContain(SECRET);
    }
  });

  it('refuses impossible options early', () => {
    expect(() => createConversions({ pixelId: '', apiKey: 'k' })).toThrow(/pixelId/);
    expect(() => createConversions({ pixelId: 'p', apiKey: '' })).toThrow(/apiKey/);
    expect(() => createConversions({ pixelId: 'p', apiKey: 'k', batch: { maxEvents: 1001 } })).toThrow(
      /maxEvents/,
    );
    expect(() => createConversions({ pixelId: 'p', apiKey: 'k', integrationSource: '-x' })).toThrow(
      /integration_source/,
    );
  });

  it('sends validate_only and integration_source on every request', async () => {
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, { validateOnly: true, integrationSource: ' Acme_Partner ' });
    await conversions.track({ type: 'lead_created' }, context);
    await conversions.flush();
    expect(endpoint.requests[0]?.envelope).toMatchObject({
      validate_only: true,
      integration_source: 'acme_partner',
    });
  });

  it('replays dead letters', async () => {
    let reject = true;
    const endpoint = fakeEndpoint(() =>
      reject ? { status: 400, body: { message: 'nope' } } : { status: 200 },
    );
    const { conversions } = client(endpoint);
    await conversions.track({ type: 'lead_created', id: 'x' }, context);
    await conversions.flush();
    expect(conversions.stats().deadLettered).toBe(1);
    reject = false;
    expect(await conversions.replay()).toBe(1);
    await conversions.flush();
    await vi.waitFor(() =>
      expect(conversions.stats()).toMatchObject({ delivered: 1, replayed: 1, queued: 0 }),
    );
  });
});

describe('forRequest', () => {
  const landing = (headers: Record<string, string> = {}) => ({
    url: 'https://shop.example/checkout?oppref=gAAAAB-req',
    header: (name: string) => headers[name],
    ip: '198.51.100.9',
  });

  it('binds track and pixel to one event id and the request context', async () => {
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, {
      pixel: { scriptUrl: 'http://127.0.0.1:8787/sdk/oaiq.min.js' },
    });
    const ads = conversions.forRequest(landing({ cookie: '__oaiq_consent=true', 'user-agent': 'UA/2' }), {
      nonce: () => 'n0nce',
    });
    expect(ads.setCookies).toEqual(['__oppref=gAAAAB-req; Path=/; Max-Age=2592000; SameSite=Lax; Secure']);
    expect(await ads.track({ type: 'order_created', data: { amount: 100, currency: 'USD' } })).toMatchObject({
      status: 'queued',
      id: ads.eventId,
    });
    const html = ads.pixel({ type: 'order_created', data: { amount: 100, currency: 'USD' } });
    expect(html).toContain(`"event_id":"${ads.eventId}"`);
    expect(html).toContain('nonce="n0nce"');
    expect(html).toContain('http://127.0.0.1:8787/sdk/oaiq.min.js');
    await conversions.flush();
    expect(endpoint.requests[0]?.envelope.events[0]).toMatchObject({
      id: ads.eventId,
      oppref: 'gAAAAB-req',
      source_url: 'https://shop.example/checkout',
      user: { ip_address: '198.51.100.9', user_agent: 'UA/2' },
    });
  });

  it('keeps track, pixel and the event id working when taken off the view', async () => {
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint);
    const { track, pixel, pixelCode, eventId } = conversions.forRequest(
      landing({ cookie: '__oaiq_consent=true' }),
    );
    expect(await track({ type: 'lead_created' })).toMatchObject({ status: 'queued', id: eventId });
    expect(pixel({ type: 'lead_created' })).toContain(`"event_id":"${eventId}"`);
    expect(pixelCode({ type: 'lead_created' })).toContain(`"event_id":"${eventId}"`);
    await conversions.flush();
    expect(endpoint.requests[0]?.envelope.events[0]).toMatchObject({ id: eventId, oppref: 'gAAAAB-req' });
  });

  it('lets the app answer consent first and keeps a given event id', async () => {
    const { conversions } = client(fakeEndpoint());
    const denied = conversions.forRequest(landing({ cookie: '__oaiq_consent=true; __oppref=old' }), {
      consent: 'denied',
      eventId: 'order_9',
    });
    expect(denied.consent).toEqual({ state: 'denied', source: 'app' });
    expect(denied.eventId).toBe('order_9');
    expect(denied.setCookies).toEqual(['__oppref=; Path=/; Max-Age=0; SameSite=Lax; Secure']);
    expect(await denied.track({ type: 'lead_created' })).toMatchObject({ status: 'skipped', source: 'app' });
    expect(denied.pixel({ type: 'lead_created' })).not.toContain('measure');
    await conversions.shutdown();
  });
});

describe("track inside the app's transaction", () => {
  it('hands the transaction to the outbox with the record, and to the request view', async () => {
    const seen: unknown[] = [];
    class TransactionalOutbox extends MemoryOutbox {
      override async append(
        record: Parameters<MemoryOutbox['append']>[0],
        options?: { transaction?: unknown },
      ) {
        seen.push(options?.transaction);
        return super.append(record);
      }
    }
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, { outbox: new TransactionalOutbox() });
    const transaction = { name: 'the app transaction' };
    const result = await conversions.track({ type: 'lead_created', id: 'lead_tx' }, context, { transaction });
    expect(result.status).toBe('queued');
    const view = conversions.forRequest({
      url: 'https://shop.example/',
      header: (name) => (name === 'cookie' ? '__oaiq_consent=true' : undefined),
    });
    expect((await view.track({ type: 'lead_created' }, { transaction })).status).toBe('queued');
    await conversions.track({ type: 'lead_created', id: 'lead_plain' }, context);
    expect(seen).toEqual([transaction, transaction, undefined]);
    await conversions.shutdown();
  });

  it('refuses with the reason when the outbox cannot store inside a transaction, and stores nothing', async () => {
    const endpoint = fakeEndpoint();
    const { conversions, lines } = client(endpoint);
    const result = await conversions.track({ type: 'lead_created', id: 'lead_tx' }, context, {
      transaction: {},
    });
    expect(result).toMatchObject({ status: 'refused', issues: [{ code: 'outbox_error' }] });
    expect(result.status === 'refused' && result.issues[0]?.message).toMatch(/outbox-postgres/);
    expect(lines.some((line) => line.startsWith('error outbox append failed'))).toBe(true);
    await conversions.flush();
    expect(conversions.stats().accepted).toBe(0);
    await conversions.shutdown();
  });
});

describe('a shared outbox', () => {
  it('sends what another process stored when the outbox wakes the client, and stops listening on shutdown', async () => {
    const listeners = new Set<() => void>();
    class WakingOutbox extends MemoryOutbox {
      onWake(listener: () => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      }
    }
    const outbox = new WakingOutbox();
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, { outbox, batch: { flushIntervalMs: 3_600_000 } });
    await conversions.flush();
    expect(listeners.size).toBe(1);
    // Another process stores an event in the shared outbox, and the outbox says so.
    await outbox.append({
      key: JSON.stringify(['px_test', 'lead_created', 'elsewhere_1']),
      id: 'elsewhere_1',
      body: JSON.stringify({ id: 'elsewhere_1', type: 'lead_created' }),
      bytes: 40,
      timestampMs: Date.now(),
      acceptedAt: Date.now(),
      attempts: 0,
    });
    for (const wake of listeners) wake();
    await vi.waitFor(() => expect(endpoint.acceptedIds()).toEqual(['elsewhere_1']), { timeout: 10_000 });
    await conversions.shutdown();
    expect(listeners.size).toBe(0);
  });

  it('claims once for a batch that drains the queue, instead of asking again for nothing', async () => {
    let claims = 0;
    class CountingOutbox extends MemoryOutbox {
      override claim(limits: { maxEvents: number; maxBytes: number }) {
        claims++;
        return super.claim(limits);
      }
    }
    const endpoint = fakeEndpoint();
    const { conversions } = client(endpoint, {
      outbox: new CountingOutbox(),
      batch: { flushIntervalMs: 3_600_000 },
    });
    await trackMany(conversions, 3);
    await conversions.flush();
    expect(endpoint.acceptedIds()).toHaveLength(3);
    expect(claims).toBe(1);
    await conversions.shutdown();
  });
});
