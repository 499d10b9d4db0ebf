import { createConversions } from '@chatgpt-ads/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../src/index.js';

const PIXEL = { pixelId: 'px_test', apiKey: 'sk_test' };
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, pixels: [PIXEL], maxBodyBytes: 64 * 1024 });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  sandbox.setFaults([]);
});

function event(overrides: Record<string, unknown> = {}) {
  return {
    id: 'order_1',
    type: 'order_created',
    timestamp_ms: Date.now(),
    action_source: 'web',
    source_url: 'https://shop.example/checkout',
    oppref: 'gAAAAB-click',
    data: { type: 'contents', amount: 12999, currency: 'USD' },
    ...overrides,
  };
}

async function post(
  body: unknown,
  init: { pid?: string; key?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${sandbox.endpoint}?pid=${init.pid ?? PIXEL.pixelId}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${init.key ?? PIXEL.apiKey}`,
      'content-type': 'application/json',
      ...init.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: await response.json().catch(() => undefined),
  };
}

async function pixel(body: Record<string, unknown>) {
  const response = await fetch(`${sandbox.url}/v1/sdk/events?pid=${PIXEL.pixelId}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  return response.status;
}

describe('POST /v1/events', () => {
  it('stores a valid batch and answers 200', async () => {
    const answer = await post({ events: [event(), event({ id: 'order_2' })], integration_source: 'Acme' });
    expect(answer).toMatchObject({ status: 200, body: { received: 2, duplicates: 0, validate_only: false } });
    expect(sandbox.events().map((e) => [e.event.id, e.channel, e.duplicateOf])).toEqual([
      ['order_1', 'server_to_server', undefined],
      ['order_2', 'server_to_server', undefined],
    ]);
    expect(sandbox.requests()[0]).toMatchObject({ status: 200, eventCount: 2, integrationSource: 'acme' });
  });

  it('records what it answered to every request, not only to refused ones', async () => {
    await post({ events: [event()] });
    await post({ events: [event()] });
    await post({ events: [event({ id: 'bad', type: 'purchase' })] });
    expect(sandbox.requests().map((r) => r.response)).toEqual([
      { object: 'events.ingest', received: 1, duplicates: 0, validate_only: false },
      { object: 'events.ingest', received: 1, duplicates: 1, validate_only: false },
      { error: expect.objectContaining({ code: 'type_invalid', param: 'events[0].type' }) },
    ]);
  });

  it.each([
    ['currency_required', { data: { type: 'contents', amount: 100 } }, 'events[1].data.currency'],
    ['type_invalid', { type: 'purchase' }, 'events[1].type'],
    ['timestamp_too_old', { timestamp_ms: Date.now() - 8 * 86_400_000 }, 'events[1].timestamp_ms'],
    ['hash_invalid', { user: { emails_sha256: ['alex@example.com'] } }, 'events[1].user.emails_sha256[0]'],
    ['unknown_field', { event_name: 'x' }, 'events[1].event_name'],
    [
      'data_field_not_allowed',
      { type: 'lead_created', data: { type: 'customer_action', contents: [] } },
      'events[1].data.contents',
    ],
  ])('refuses the whole batch for %s, naming the event index and field', async (code, overrides, param) => {
    const answer = await post({ events: [event(), event({ id: 'order_2', ...overrides })] });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code, param, type: 'invalid_request_error' });
    expect(answer.body.error.message).toContain(param);
    expect(sandbox.events()).toEqual([]);
    expect(sandbox.requests()[0]?.error?.issues[0]).toMatchObject({ code, path: param });
  });

  it('keeps lists longer than three without an error, like the API', async () => {
    const answer = await post({ events: [event({ user: { countries: ['US', 'CA', 'MX', 'FR'] } })] });
    expect(answer.status).toBe(200);
  });

  it('refuses more than 1,000 events, bad JSON and a missing pid', async () => {
    expect(
      (await post({ events: Array.from({ length: 1001 }, (_, i) => event({ id: `o${i}` })) })).status,
    ).toBe(413);
    const big = await post({
      events: Array.from({ length: 1001 }, (_, i) => ({ id: `o${i}`, type: 'lead_created' })),
    });
    expect(big.body.error.code).toMatch(/batch_too_large|request_too_large/);
    expect((await post('{nope')).body.error.code).toBe('invalid_json');
    expect((await post({ events: [event()] }, { pid: '' })).status).toBe(400);
  });

  it('answers 413 above the byte limit', async () => {
    const answer = await post({
      events: [
        event({
          data: { type: 'custom', blob: 'x'.repeat(70_000) },
          type: 'custom',
          custom_event_name: 'big',
        }),
      ],
    });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('request_too_large');
  });

  it('answers 401 for a wrong key and 404 for an unknown pixel', async () => {
    expect((await post({ events: [event()] }, { key: 'wrong' })).status).toBe(401);
    expect((await post({ events: [event()] }, { key: '' })).status).toBe(401);
    const unknown = await post({ events: [event()] }, { pid: 'px_other' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/Not found/);
    expect(sandbox.events()).toEqual([]);
  });

  it('validate_only validates and stores nothing', async () => {
    expect((await post({ validate_only: true, events: [event()] })).body).toMatchObject({
      validate_only: true,
      received: 1,
    });
    expect((await post({ validate_only: true, events: [event({ id: '' })] })).status).toBe(400);
    expect(sandbox.events()).toEqual([]);
    expect(sandbox.requests().map((r) => [r.status, r.validateOnly])).toEqual([
      [200, true],
      [400, true],
    ]);
  });
});

describe('deduplication across channels (first copy wins)', () => {
  it('server first, then pixel', async () => {
    await post({ events: [event({ id: 'order_9' })] });
    const status = await pixel({
      event: 'order_created',
      event_id: 'order_9',
      data: { type: 'contents' },
      source_url: 'https://shop.example/thanks',
      timestamp_ms: Date.now(),
    });
    expect(status).toBe(202);
    const [first, second] = sandbox.events();
    expect(first).toMatchObject({ channel: 'server_to_server' });
    expect(first?.duplicateOf).toBeUndefined();
    expect(second).toMatchObject({ channel: 'pixel_sdk', duplicateOf: first?.seq });
  });

  it('pixel first, then server; the same id under another event name is not a duplicate', async () => {
    await pixel({
      event: 'lead_created',
      event_id: 'lead_1',
      data: { type: 'customer_action' },
      oppref: 'click',
      obref: 'ob',
      source_url: 'https://s.example/',
      timestamp_ms: Date.now(),
    });
    await post({
      events: [
        event({ id: 'lead_1', type: 'lead_created', data: { type: 'customer_action' } }),
        event({ id: 'lead_1' }),
      ],
    });
    const events = sandbox.events();
    expect(events.map((e) => [e.channel, e.event.type, e.duplicateOf])).toEqual([
      ['pixel_sdk', 'lead_created', undefined],
      ['server_to_server', 'lead_created', events[0]?.seq],
      ['server_to_server', 'order_created', undefined],
    ]);
    expect(events[0]?.event).toMatchObject({ oppref: 'click', user: { obref: 'ob' } });
  });

  it('keys custom events by their custom name', async () => {
    const custom = (name: string) =>
      event({ id: 'c1', type: 'custom', custom_event_name: name, data: { type: 'custom' } });
    await post({ events: [custom('quote'), custom('QUOTE'), custom('demo')] });
    expect(sandbox.events().map((e) => e.duplicateOf !== undefined)).toEqual([false, true, false]);
  });

  it('accepts image-tag requests as pixel events', async () => {
    const response = await fetch(
      `${sandbox.url}/v1/sdk/events?pid=px_test&event=lead_created&event_id=img_1&data[type]=customer_action`,
      {
        headers: { referer: 'https://shop.example/thanks?x=1' },
      },
    );
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(sandbox.events()[0]).toMatchObject({
      channel: 'pixel_sdk',
      event: { id: 'img_1', source_url: 'https://shop.example/thanks' },
    });
  });
});

describe('fault injection', () => {
  it('plays a status sequence, then answers normally', async () => {
    sandbox.setFaults([
      { status: 503, times: 2 },
      { status: 429, retryAfter: 3 },
    ]);
    const statuses = [];
    const retryAfter = [];
    for (let i = 0; i < 4; i++) {
      const answer = await post({ events: [event({ id: `o${i}` })] });
      statuses.push(answer.status);
      retryAfter.push(answer.headers.get('retry-after'));
    }
    expect(statuses).toEqual([503, 503, 429, 200]);
    expect(retryAfter).toEqual([null, null, '3', null]);
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['o3']);
  });

  it('holds an outage for a time window', async () => {
    sandbox.setFaults([{ status: 503, forMs: 300 }]);
    expect((await post({ events: [event()] })).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await post({ events: [event()] })).status).toBe(200);
  });

  it('adds latency: a later request without the fault is answered first', async () => {
    const settled: string[] = [];
    const late = post(
      { events: [event({ id: 'late' })] },
      { headers: { 'x-sandbox-fault': '{"latencyMs":5000}' } },
    ).then((answer) => {
      settled.push('late');
      return answer;
    });
    const prompt = await post({ events: [event({ id: 'prompt' })] });
    settled.push('prompt');
    expect(prompt.status).toBe(200);
    expect((await late).status).toBe(200);
    expect(settled).toEqual(['prompt', 'late']);
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['prompt', 'late']);
  });

  it('resets the connection', async () => {
    sandbox.setFaults([{ reset: true }]);
    await expect(post({ events: [event()] })).rejects.toThrow();
    expect(sandbox.requests()[0]).toMatchObject({ status: 0, fault: 'connection reset' });
  });

  it('hangs past the client timeout', async () => {
    sandbox.setFaults([{ hang: true }]);
    const request = fetch(`${sandbox.endpoint}?pid=px_test`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test' },
      body: JSON.stringify({ events: [event()] }),
      signal: AbortSignal.timeout(300),
    });
    await expect(request).rejects.toThrow(/abort|timeout/i);
    expect(sandbox.events()).toEqual([]);
  });

  it('rejects one specific event id with a 400 naming it', async () => {
    sandbox.setFaults([{ rejectIds: ['bad_1'] }]);
    const answer = await post({ events: [event({ id: 'ok_1' }), event({ id: 'bad_1' })] });
    expect(answer.status).toBe(400);
    expect(answer.body.error.param).toBe('events[1].id');
    expect((await post({ events: [event({ id: 'ok_1' })] })).status).toBe(200);
  });

  it('takes faults per request from a header and by script over HTTP', async () => {
    expect(
      (await post({ events: [event()] }, { headers: { 'x-sandbox-fault': '{"status":502}' } })).status,
    ).toBe(502);
    const set = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ status: 500, times: 1 }]),
    });
    expect(await set.json()).toMatchObject({ pending: [{ status: 500, times: 1 }] });
    expect((await post({ events: [event()] })).status).toBe(500);
    expect((await post({ events: [event()] })).status).toBe(200);
  });
});

describe('JSON and monitoring APIs', () => {
  it('lists recent events like the monitoring endpoint, and resets', async () => {
    await post({ events: [event({ id: 'a' }), event({ id: 'b' })] });
    const recent = await (await fetch(`${sandbox.url}/v1/conversions/events?pid=px_test&limit=1`)).json();
    expect(recent).toMatchObject({
      object: 'list',
      data: [{ id: 'b', channel: 'server_to_server', has_oppref: true }],
    });
    const events = await (await fetch(`${sandbox.url}/_sandbox/events`)).json();
    expect(events.data).toHaveLength(2);
    await fetch(`${sandbox.url}/_sandbox/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(sandbox.events()).toEqual([]);
  });

  it('serves the inspector and the stand-in pixel', async () => {
    const page = await fetch(sandbox.url);
    expect(await page.text()).toContain('ChatGPT Ads <b>sandbox</b>');
    const script = await fetch(sandbox.pixelScriptUrl);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toContain('stand-in pixel');
  });
});

describe('with the core client', () => {
  it('delivers through a burst of 503s and isolates a rejected event', async () => {
    sandbox.setFaults([{ status: 503, times: 3 }, { rejectIds: ['order_7'] }]);
    const conversions = createConversions({
      ...PIXEL,
      endpoint: sandbox.endpoint,
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      logger: { warn() {}, error() {} },
    });
    for (let i = 0; i < 20; i++) {
      await conversions.track(
        { type: 'order_created', id: `order_${i}`, data: { amount: 100, currency: 'USD' } },
        { consent: 'granted', sourceUrl: 'https://shop.example/' },
      );
    }
    const stats = await conversions.shutdown();
    expect(stats).toMatchObject({ delivered: 19, deadLettered: 1, queued: 0 });
    expect(new Set(sandbox.events().map((e) => e.event.id)).size).toBe(19);
    expect(sandbox.events().every((e) => e.duplicateOf === undefined)).toBe(true);
  });
});
