// Every branch of docs/troubleshooting.md, reproduced: the stats() figure and the log line the
// page tells the reader to look for are the ones the library gives.
import { describe, expect, it } from 'vitest';
import { fakeEndpoint } from '../test/fake-endpoint.js';
import { createConversions } from './client.js';
import type { ConversionsOptions, Logger } from './config.js';

function setup(overrides: Partial<ConversionsOptions> = {}, endpoint = fakeEndpoint()) {
  const lines: string[] = [];
  const logger: Logger = {
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
    debug: (m) => lines.push(m),
  };
  const conversions = createConversions({
    pixelId: 'px_doc',
    apiKey: 'sk_doc',
    endpoint: 'http://127.0.0.1:9/v1/events',
    fetch: endpoint.fetch,
    logger,
    random: () => 0.5,
    ...overrides,
  });
  return { conversions, lines, endpoint };
}
const granted = { consent: 'granted' as const, sourceUrl: 'https://shop.example/checkout' };

describe('not counted at all', () => {
  it('1. skipped: no consent signal under opt-in', async () => {
    const { conversions, lines } = setup();
    await conversions.track({ type: 'lead_created' }, { sourceUrl: 'https://shop.example/' });
    expect(conversions.stats()).toMatchObject({ skipped: 1, skippedBySource: { none: 1 } });
    expect(lines.join('\n')).toContain('skipped: no consent signal under opt-in — ');
  });

  it('1. skipped: consent denied (gpc)', async () => {
    const { conversions, lines } = setup();
    const visit = conversions.forRequest({
      url: 'https://shop.example/',
      header: (name) => (name === 'sec-gpc' ? '1' : undefined),
    });
    await visit.track({ type: 'lead_created' });
    expect(conversions.stats().skippedBySource).toEqual({ gpc: 1 });
    expect(lines.join('\n')).toContain('skipped: consent denied (gpc)');
  });

  it('2. refused, with the issue codes', async () => {
    const { conversions, lines } = setup();
    const result = await conversions.track({ type: 'order_created', data: { amount: 100 } }, granted);
    expect(result).toMatchObject({
      status: 'refused',
      issues: [{ path: 'data.currency', code: 'currency_required' }],
    });
    expect(conversions.stats().refused).toBe(1);
    expect(lines.join('\n')).toContain('refused order_created (currency_required)');
  });

  it('3. dead-lettered as invalid, listed and replayable', async () => {
    let reject = true;
    const endpoint = fakeEndpoint(() =>
      reject
        ? { status: 400, body: { error: { message: 'events[0].data: bad' } } }
        : { status: 200, body: {} },
    );
    const { conversions } = setup({}, endpoint);
    await conversions.track({ type: 'lead_created', id: 'lead_1' }, granted);
    await conversions.flush();
    expect(conversions.stats().deadLetteredByReason.invalid).toBe(1);
    expect((await conversions.deadLetters()).map((l) => l.record.id)).toEqual(['lead_1']);
    reject = false;
    expect(await conversions.replay()).toBe(1);
    await conversions.flush();
    expect(conversions.stats().delivered).toBe(1);
  });

  it('4. halted on a refused key, nothing lost, resume() sends', async () => {
    let status = 401;
    const endpoint = fakeEndpoint(() => ({ status, body: { error: { message: 'invalid api key' } } }));
    const { conversions, lines } = setup({}, endpoint);
    await conversions.track({ type: 'lead_created' }, granted);
    await conversions.flush();
    expect(conversions.stats()).toMatchObject({ halted: { status: 401 }, queued: 1, delivered: 0 });
    expect(lines.join('\n')).toMatch(
      /ChatGPT Ads refused the configuration .*Sending is halted with 1 event\(s\) kept queued/,
    );
    status = 200;
    conversions.resume();
    await conversions.flush();
    expect(conversions.stats()).toMatchObject({ queued: 0, delivered: 1 });
  });

  it('5. queued stays up while the endpoint fails, and shutdown says how many were left', async () => {
    const endpoint = fakeEndpoint(() => ({ status: 503 }));
    const { conversions, lines } = setup({ retry: { baseDelayMs: 5, maxDelayMs: 10 } }, endpoint);
    await conversions.track({ type: 'lead_created' }, granted);
    const stats = await conversions.shutdown({ timeoutMs: 50 });
    expect(stats).toMatchObject({ queued: 1, delivered: 0 });
    expect(stats.retried).toBeGreaterThan(0);
    expect(lines.join('\n')).toContain('shut down with 1 event(s) still queued');
  });
});

describe('counted but not attributed', () => {
  it('1. the landing without consent: oppref not stored', () => {
    const { conversions, lines } = setup();
    const visit = conversions.forRequest({
      url: 'https://shop.example/?oppref=gAAAA1',
      header: () => undefined,
    });
    expect(visit.setCookies).toEqual([]);
    expect(lines.join('\n')).toContain('oppref not stored: no consent signal under opt-in');
  });

  it('2. an unsafe value: oppref not stored: unsafe oppref value ignored', () => {
    const { conversions, lines } = setup();
    conversions.forRequest({
      url: 'https://shop.example/?oppref=a;b',
      header: (name) => (name === 'cookie' ? '__oaiq_consent=true' : undefined),
    });
    expect(lines.join('\n')).toContain('oppref not stored: unsafe oppref value ignored');
  });

  it('3. no click id reached the request: the event has no oppref', async () => {
    const { conversions, endpoint } = setup();
    await conversions.track({ type: 'lead_created' }, granted);
    await conversions.flush();
    expect(endpoint.requests[0]?.envelope.events[0]).not.toHaveProperty('oppref');
  });
});

describe('counted twice', () => {
  it('the pixel shares the server id only when both come from the same request view', async () => {
    const { conversions, endpoint } = setup();
    const visit = conversions.forRequest({
      url: 'https://shop.example/thanks',
      header: (name) => (name === 'cookie' ? '__oaiq_consent=true' : undefined),
    });
    await visit.track({ type: 'order_created', data: { amount: 100, currency: 'USD' } });
    await conversions.flush();
    const serverId = endpoint.requests[0]?.envelope.events[0]?.id;
    expect(visit.pixel({ type: 'order_created' })).toContain(`"event_id":"${serverId}"`);
    // A pixel rendered from another view gets another id: two conversions at OpenAI.
    const other = conversions.forRequest({ url: 'https://shop.example/thanks', header: () => undefined });
    expect(other.pixel({ type: 'order_created' })).not.toContain(`"event_id":"${serverId}"`);
  });
});
