import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConversionsConfigError, createConversions } from '@chatgpt-ads/core';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { NONCE, secureHeaders } from 'hono/secure-headers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ChatgptAdsEnv, type ChatgptAdsOptions, chatgptAds } from '../src/index.js';

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
    apiKey: 'sk_hono_SECRET',
    endpoint: sandbox.endpoint,
    batch: { flushIntervalMs: 3_600_000 },
    logger: { warn() {}, error() {} },
  };
}

function appWith(options: Partial<ChatgptAdsOptions> = {}) {
  const app = new Hono<ChatgptAdsEnv>();
  const ads = chatgptAds({ ...clientOptions(), ...options } as ChatgptAdsOptions);
  app.use(ads);
  app.post('/order', async (c) => {
    const result = await c.var.chatgptAds.track({
      type: 'order_created',
      data: { amount: 500, currency: 'EUR' },
    });
    return c.json({ status: result.status, pixel: c.var.chatgptAds.pixel({ type: 'order_created' }) });
  });
  return { app, ads };
}

// An execution context as Workers give one: it records what the middleware hands to waitUntil.
function executionContext() {
  const pending: Promise<unknown>[] = [];
  return {
    pending,
    ctx: { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} },
  };
}

describe('options', () => {
  it.each([
    [
      'a misspelt adapter option',
      { consentFromReqest: () => 'granted' },
      'known: consentFromRequest, nonce, clientIp',
    ],
    ['a misspelt client option', { endpiont: 'http://127.0.0.1:1/v1/events' }, 'did you mean endpoint'],
    ['a clientIp that is not a function', { clientIp: 'x-real-ip' }, 'clientIp must be a function'],
  ])('chatgptAds() throws on %s', (_label, wrong, message) => {
    const make = () => chatgptAds({ ...clientOptions(), ...wrong } as ChatgptAdsOptions);
    expect(make).toThrow(ConversionsConfigError);
    expect(make).toThrow(message);
  });

  it('refuses client options beside a client you made', async () => {
    const conversions = createConversions(clientOptions());
    expect(() => chatgptAds({ conversions, pixelId: 'px_other' } as ChatgptAdsOptions)).toThrow(
      /unknown option pixelId/,
    );
    await conversions.shutdown();
  });

  it('runs from the environment alone, and keeps the key out of what it prints', async () => {
    vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_env');
    vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_env_SECRET');
    const ads = chatgptAds();
    expect(ads.conversions.pixelId).toBe('px_env');
    expect(JSON.stringify(ads.conversions)).not.toContain('SECRET');
    await ads.conversions.shutdown();
  });
});

describe('cookies', () => {
  it("adds __oppref beside the handler's own cookies, whatever kind of response it returns", async () => {
    const app = new Hono();
    app.use(chatgptAds(clientOptions()));
    app.get('/helper', (c) => {
      setCookie(c, 'session', 'abc');
      c.header('set-cookie', 'theme=dark', { append: true });
      return c.text('ok');
    });
    app.get('/own', () => new Response('ok', { headers: [['set-cookie', 'own=1']] }));
    // Response.redirect() has immutable headers.
    app.get('/immutable', () => Response.redirect('https://shop.example/landing', 302));
    const names = async (path: string) => {
      const response = await app.request(`${path}?oppref=gAAAAB-mixed`, { headers: GRANTED });
      return { names: response.headers.getSetCookie().map((c) => c.split('=')[0]), response };
    };
    // Set before the handler runs, so a cookie of the same name the app writes itself comes last and wins.
    expect((await names('/helper')).names.sort()).toEqual(['__oppref', 'session', 'theme']);
    expect((await names('/own')).names.sort()).toEqual(['__oppref', 'own']);
    const immutable = await names('/immutable');
    expect(immutable.names).toEqual(['__oppref']);
    expect(immutable.response.status).toBe(302);
    expect(immutable.response.headers.get('location')).toBe('https://shop.example/landing');
  });
});

describe('execution context', () => {
  it('hands the send to waitUntil, which delivers without a flush or shutdown', async () => {
    const { app, ads } = appWith();
    const { pending, ctx } = executionContext();
    for (let i = 0; i < 2; i++) {
      const response = await app.fetch(
        new Request('http://shop.example/order', { method: 'POST', headers: GRANTED }),
        {},
        ctx,
      );
      expect((await response.json()).status).toBe('queued');
    }
    expect(pending).toHaveLength(2);
    await Promise.all(pending);
    expect(sandbox.events()).toHaveLength(2);
    await ads.conversions.shutdown();
  });

  it('without one (Node, tests) the request goes on and the batch waits for shutdown', async () => {
    const { app, ads } = appWith();
    const response = await app.request('/order', { method: 'POST', headers: GRANTED });
    expect((await response.json()).status).toBe('queued');
    expect(ads.conversions.stats().queued).toBe(1);
    await ads.conversions.shutdown();
    expect(sandbox.events()).toHaveLength(1);
  });
});

describe('request view', () => {
  it("renders the pixel with secureHeaders' nonce, or the one the nonce option gives", async () => {
    const helmet = appWith();
    const withHeaders = new Hono();
    withHeaders.use(secureHeaders({ contentSecurityPolicy: { scriptSrc: [NONCE] } }));
    withHeaders.route('/', helmet.app);
    const response = await withHeaders.request('/order', { method: 'POST', headers: GRANTED });
    const nonce = /'nonce-([^']+)'/.exec(response.headers.get('content-security-policy') ?? '')?.[1];
    expect(nonce).toBeTruthy();
    expect((await response.json()).pixel).toContain(`nonce="${nonce}"`);

    const own = appWith({ nonce: (c) => c.req.header('x-nonce') });
    const answer = await own.app.request('/order', {
      method: 'POST',
      headers: { ...GRANTED, 'x-nonce': 'n-own' },
    });
    expect((await answer.json()).pixel).toContain('nonce="n-own"');
    await Promise.all([helmet.ads.conversions.shutdown(), own.ads.conversions.shutdown()]);
  });

  it("asks the app's consent first, and reads the IP clientIp gives", async () => {
    const { app, ads } = appWith({
      consentFromRequest: (c) => (c.req.header('x-site-consent') === 'no' ? 'denied' : undefined),
      clientIp: (c) => c.req.header('x-real-ip'),
    });
    const headers = { ...GRANTED, 'x-real-ip': '203.0.113.9' };
    const denied = await app.request('/order', {
      method: 'POST',
      headers: { ...headers, 'x-site-consent': 'no' },
    });
    const granted = await app.request('/order', { method: 'POST', headers });
    expect([(await denied.json()).status, (await granted.json()).status]).toEqual(['skipped', 'queued']);
    await ads.conversions.shutdown();
    expect(sandbox.events()).toHaveLength(1);
    expect(sandbox.events()[0]?.event.user).toMatchObject({ ip_address: '203.0.113.9' });
  });

  it('on @hono/node-server the IP is the socket address, not a forwarded header', async () => {
    const { app, ads } = appWith();
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/order`, {
      method: 'POST',
      headers: { ...GRANTED, 'x-forwarded-for': '198.51.100.1' },
    });
    await new Promise((resolve) => server.close(resolve));
    await ads.conversions.shutdown();
    expect(sandbox.events()[0]?.event.user).toMatchObject({ ip_address: '127.0.0.1' });
  });
});

describe('runs on Web-standard runtimes', () => {
  const srcDir = join(import.meta.dirname, '..', 'src');
  it('imports nothing from Node and nothing but core and hono', () => {
    for (const file of readdirSync(srcDir)) {
      const code = readFileSync(join(srcDir, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect(code).not.toMatch(/['"]node:|\brequire\(|\bBuffer\b/);
      const imported = [...code.matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
      expect(new Set(imported)).toEqual(new Set(['@chatgpt-ads/core', 'hono']));
    }
  });
});
