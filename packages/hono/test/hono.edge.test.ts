// Runs in the Edge runtime (vitest's edge-runtime environment): Web APIs only, as on Workers.
import { Hono } from 'hono';
import { expect, it } from 'vitest';
import { chatgptAds } from '../src/index.js';

const OPPREF = 'gAAAAB-Zm9vYmFy_x-1Zw==';

function edgeApp() {
  const posted: Array<{ url: string; body: { events: Array<Record<string, unknown>> } }> = [];
  const fetchSpy: typeof fetch = async (input, init) => {
    posted.push({ url: String(input), body: JSON.parse(String(init?.body)) });
    return new Response(JSON.stringify({ events_received: 1 }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  const app = new Hono();
  app.use(
    chatgptAds({
      pixelId: 'px_edge',
      apiKey: 'sk_edge',
      fetch: fetchSpy,
      batch: { flushIntervalMs: 3_600_000 },
      logger: { warn() {}, error() {} },
      clientIp: (c) => c.req.header('cf-connecting-ip'),
    }),
  );
  app.get('/landing', (c) => c.text('landing'));
  app.post('/lead', async (c) => {
    const result = await c.var.chatgptAds.track({
      type: 'lead_created',
      user: { email: ' Alex@Example.com ' },
    });
    return c.json({ status: result.status, eventId: c.var.chatgptAds.eventId });
  });
  const pending: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (p: Promise<unknown>) => void pending.push(p),
    passThroughOnException() {},
    props: {},
  };
  const send = (path: string, init: RequestInit = {}) =>
    app.fetch(new Request(`https://shop.example${path}`, init), {}, ctx);
  return { send, posted, pending };
}

it('runs inside the Edge runtime', () => {
  expect(typeof (globalThis as { EdgeRuntime?: unknown }).EdgeRuntime).toBe('string');
});

it('captures the click id byte for byte and sends the tracked event through the injected fetch', async () => {
  const { send, posted, pending } = edgeApp();
  const landing = await send(`/landing?oppref=${OPPREF}`, { headers: { cookie: '__oaiq_consent=true' } });
  const cookie = landing.headers.getSetCookie()[0]!;
  expect(cookie).toMatch(new RegExp(`^__oppref=${OPPREF.replace(/[=+]/g, '\\$&')};`));
  expect(cookie).toMatch(/; Secure/i);

  const lead = await send('/lead', {
    method: 'POST',
    headers: {
      cookie: `__oaiq_consent=true; ${cookie.split(';')[0]}`,
      'user-agent': 'EdgeAgent/1.0',
      'cf-connecting-ip': '203.0.113.7',
    },
  });
  const answer = (await lead.json()) as { status: string; eventId: string };
  expect(answer.status).toBe('queued');
  // One send handed to waitUntil per response; the worker stays alive until they settle.
  expect(pending).toHaveLength(2);
  await Promise.all(pending);
  expect(posted).toHaveLength(1);
  expect(posted[0]!.url).toContain('pid=px_edge');
  expect(posted[0]!.body.events[0]).toMatchObject({
    id: answer.eventId,
    type: 'lead_created',
    oppref: OPPREF,
    source_url: 'https://shop.example/lead',
    user: {
      ip_address: '203.0.113.7',
      user_agent: 'EdgeAgent/1.0',
      emails_sha256: ['6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'],
    },
  });
});

it('under a denial writes no cookie, clears the old one and sends nothing', async () => {
  const { send, posted, pending } = edgeApp();
  const landing = await send(`/landing?oppref=${OPPREF}`, {
    headers: { cookie: '__oppref=old', 'sec-gpc': '1' },
  });
  expect(landing.headers.getSetCookie()).toEqual([expect.stringMatching(/^__oppref=;.*Max-Age=0/i)]);
  const lead = await send('/lead', {
    method: 'POST',
    headers: { cookie: `__oppref=${OPPREF}`, 'sec-gpc': '1' },
  });
  expect(((await lead.json()) as { status: string }).status).toBe('skipped');
  await Promise.all(pending);
  expect(posted).toHaveLength(0);
});
