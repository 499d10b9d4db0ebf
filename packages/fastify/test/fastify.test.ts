import { ConversionsConfigError, createConversions } from '@chatgpt-ads/core';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ChatgptAdsOptions, chatgptAds } from '../src/index.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());
afterEach(() => vi.unstubAllEnvs());

const GRANTED = { cookie: '__oaiq_consent=true' };

function clientOptions() {
  return {
    pixelId: 'px',
    apiKey: 'sk_fastify_SECRET',
    endpoint: sandbox.endpoint,
    batch: { flushIntervalMs: 3_600_000 },
    logger: { warn() {}, error() {} },
  };
}

async function appWith(options: Partial<ChatgptAdsOptions> = {}, fastifyOptions = {}) {
  const app = Fastify(fastifyOptions);
  await app.register(chatgptAds, { ...clientOptions(), ...options } as ChatgptAdsOptions);
  app.post('/order', async (request) => {
    const result = await request.chatgptAds.track({
      type: 'order_created',
      data: { amount: 500, currency: 'EUR' },
    });
    return { status: result.status, pixel: request.chatgptAds.pixel({ type: 'order_created' }) };
  });
  return app;
}

describe('options', () => {
  it.each([
    [
      'a misspelt adapter option',
      { consentFromReqest: () => 'granted' },
      'known: consentFromRequest, nonce, pixelId',
    ],
    ['a misspelt client option', { endpiont: 'http://127.0.0.1:1/v1/events' }, 'did you mean endpoint'],
    ['a nonce that is not a function', { nonce: 'abc' }, 'nonce must be a function'],
    ["Fastify's prefix, which a plugin for the whole instance cannot honour", { prefix: '/api' }, 'prefix'],
  ])('register() rejects %s', async (_label, wrong, message) => {
    const app = Fastify();
    const registered = app.register(chatgptAds, { ...clientOptions(), ...wrong } as ChatgptAdsOptions);
    await expect(registered).rejects.toThrow(ConversionsConfigError);
    await expect(app.ready()).rejects.toThrow(message);
    await app.close();
  });

  it('refuses client options beside a client you made', async () => {
    const conversions = createConversions(clientOptions());
    const app = Fastify();
    await expect(
      app.register(chatgptAds, { conversions, pixelId: 'px_other' } as ChatgptAdsOptions),
    ).rejects.toThrow(/unknown option pixelId/);
    await app.close();
    await conversions.shutdown();
  });

  it('runs from the environment alone, and keeps the key out of what it prints', async () => {
    vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_env');
    vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_env_SECRET');
    const app = Fastify();
    await app.register(chatgptAds);
    expect(app.chatgptAds.pixelId).toBe('px_env');
    expect(JSON.stringify(app.chatgptAds)).not.toContain('SECRET');
    await app.close();
  });
});

describe('cookies', () => {
  it("adds __oppref beside the app's own Set-Cookie headers, from hooks and @fastify/cookie", async () => {
    const app = Fastify();
    // Registered before the plugin: its header is set first and must survive.
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('set-cookie', 'theme=dark; Path=/');
    });
    await app.register(fastifyCookie);
    await app.register(chatgptAds, clientOptions());
    app.get('/landing', async (_request, reply) => {
      reply.setCookie('session', 'abc', { path: '/' });
      reply.header('set-cookie', 'seen=1');
      return 'landing';
    });
    const response = await app.inject({ url: '/landing?oppref=gAAAAB-mixed', headers: GRANTED });
    const names = [response.headers['set-cookie']].flat().map((c) => String(c).split('=')[0]);
    expect(names.sort()).toEqual(['__oppref', 'seen', 'session', 'theme']);
    await app.close();
  });

  it('sets the cookie on routes of encapsulated child plugins too', async () => {
    const app = await appWith();
    await app.register(
      async (child) => {
        child.get('/page', async (request) => request.chatgptAds.context.oppref ?? 'none');
      },
      { prefix: '/shop' },
    );
    const response = await app.inject({ url: '/shop/page?oppref=gAAAAB-child', headers: GRANTED });
    expect(response.body).toBe('gAAAAB-child');
    expect(String(response.headers['set-cookie'])).toMatch(/^__oppref=gAAAAB-child;/);
    await app.close();
  });
});

describe('request view', () => {
  it("renders the pixel with the reply's CSP nonce, or the one the nonce option gives", async () => {
    const helmetLike = await appWith();
    helmetLike.addHook('onRequest', async (_request, reply) => {
      (reply as unknown as { cspNonce: { script: string } }).cspNonce = { script: 'n-helmet' };
    });
    await helmetLike.ready();
    const own = await appWith({ nonce: (request) => String(request.headers['x-nonce']) });
    for (const [app, nonce] of [
      [helmetLike, 'n-helmet'],
      [own, 'n-own'],
    ] as const) {
      const response = await app.inject({
        method: 'POST',
        url: '/order',
        headers: { ...GRANTED, 'x-nonce': 'n-own' },
      });
      expect(response.json().pixel).toContain(`nonce="${nonce}"`);
      await app.close();
    }
  });

  it("asks the app's consent first: its denial wins over the pixel cookie", async () => {
    const app = await appWith({
      consentFromRequest: (request) => (request.headers['x-site-consent'] === 'no' ? 'denied' : undefined),
    });
    const denied = await app.inject({
      method: 'POST',
      url: '/order',
      headers: { ...GRANTED, 'x-site-consent': 'no' },
    });
    const granted = await app.inject({ method: 'POST', url: '/order', headers: GRANTED });
    expect([denied.json().status, granted.json().status]).toEqual(['skipped', 'queued']);
    await app.close();
    expect(sandbox.events()).toHaveLength(1);
  });

  it("trusts X-Forwarded-* only when Fastify's trustProxy trusts the hop", async () => {
    const headers = {
      ...GRANTED,
      'x-forwarded-for': '203.0.113.50',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'shop.example',
      host: 'origin.internal',
    };
    for (const trustProxy of [true, '10.0.0.1', false]) {
      sandbox.reset();
      const app = await appWith({}, { trustProxy });
      const response = await app.inject({ method: 'POST', url: '/order?oppref=click-1', headers });
      await app.close();
      const event = sandbox.events()[0]?.event as unknown as {
        source_url: string;
        user: { ip_address: string };
      };
      if (trustProxy === true) {
        expect(event.source_url).toBe('https://shop.example/order');
        expect(event.user.ip_address).toBe('203.0.113.50');
        expect(String(response.headers['set-cookie'])).toMatch(/; Secure$/);
      } else {
        expect(event.source_url).toBe('http://origin.internal/order');
        expect(event.user.ip_address).toBe('127.0.0.1');
        expect(String(response.headers['set-cookie'])).not.toMatch(/Secure/);
      }
    }
  });
});

describe('close', () => {
  it('app.close() delivers what is queued, then the client it made accepts nothing more', async () => {
    const app = await appWith();
    for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/order', headers: GRANTED });
    expect(sandbox.events()).toHaveLength(0);
    await app.close();
    expect(sandbox.events()).toHaveLength(3);
    expect((await app.chatgptAds.track({ type: 'lead_created' })).status).toBe('refused');
  });

  it('a client you passed is flushed on close and stays usable', async () => {
    const conversions = createConversions(clientOptions());
    const app: FastifyInstance = Fastify();
    await app.register(chatgptAds, { conversions });
    app.post('/lead', async (request) => (await request.chatgptAds.track({ type: 'lead_created' })).status);
    expect((await app.inject({ method: 'POST', url: '/lead', headers: GRANTED })).body).toBe('queued');
    await app.close();
    expect(sandbox.events()).toHaveLength(1);
    const later = await conversions.track(
      { type: 'lead_created', actionSource: 'offline' },
      { consent: 'granted' },
    );
    expect(later.status).toBe('queued');
    await conversions.shutdown();
    expect(sandbox.events()).toHaveLength(2);
  });
});
