import { execFile, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConversions } from '@chatgpt-ads/core';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ChatgptAdsOptions, chatgptAds, flushOnShutdown } from '../src/index.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());

async function serve(configure: (app: express.Express) => void, options: Partial<ChatgptAdsOptions> = {}) {
  const app = express();
  configure(app);
  const ads = chatgptAds({
    pixelId: 'px',
    apiKey: 'sk',
    endpoint: sandbox.endpoint,
    batch: { flushIntervalMs: 3_600_000 },
    ...options,
  } as ChatgptAdsOptions);
  app.use(ads);
  app.post('/order', async (req, res) => {
    const result = await req.chatgptAds.track({
      type: 'order_created',
      data: { amount: 500, currency: 'EUR' },
    });
    res.send(`${result.status}|${req.chatgptAds.pixel({ type: 'order_created' })}`);
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { ads, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stop(server: Server) {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('@chatgpt-ads/express', () => {
  it("trusts X-Forwarded-* only under Express's trust proxy setting", async () => {
    const headers = {
      cookie: '__oaiq_consent=true',
      'x-forwarded-for': '203.0.113.50',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'shop.example',
    };
    for (const trust of [true, false]) {
      sandbox.reset();
      const { ads, server, url } = await serve((app) => app.set('trust proxy', trust));
      const landing = await fetch(`${url}/order?oppref=click-1`, { method: 'POST', headers });
      await ads.conversions.shutdown();
      await stop(server);
      const event = sandbox.events()[0]?.event as unknown as {
        source_url: string;
        user: { ip_address: string };
      };
      if (trust) {
        expect(event.source_url).toBe('https://shop.example/order');
        expect(event.user.ip_address).toBe('203.0.113.50');
        expect(landing.headers.getSetCookie()[0]).toMatch(/; Secure$/);
      } else {
        expect(event.source_url).toBe(`${url}/order`);
        expect(event.user.ip_address).toBe('127.0.0.1');
        expect(landing.headers.getSetCookie()[0]).not.toMatch(/Secure/);
      }
    }
  });

  it('renders the pixel with the response CSP nonce and reads the app consent first', async () => {
    const { ads, server, url } = await serve(
      (app) =>
        app.use((_req, res, next) => {
          res.locals.cspNonce = 'r4nd0m';
          next();
        }),
      { consentFromRequest: (req) => (req.get('x-consent') === 'no' ? 'denied' : 'granted') },
    );
    const granted = await (await fetch(`${url}/order`, { method: 'POST' })).text();
    expect(granted).toMatch(/^queued\|<script nonce="r4nd0m">/);
    const denied = await (
      await fetch(`${url}/order`, { method: 'POST', headers: { 'x-consent': 'no' } })
    ).text();
    expect(denied).toMatch(/^skipped\|/);
    expect(denied).toContain('oaiq("consent",false)');
    await ads.conversions.shutdown();
    await stop(server);
  });

  it('accepts a client made elsewhere', async () => {
    const conversions = createConversions({ pixelId: 'px', apiKey: 'sk', endpoint: sandbox.endpoint });
    const ads = chatgptAds({ conversions });
    expect(ads.conversions).toBe(conversions);
    await conversions.shutdown();
  });

  it('flushOnShutdown delivers queued conversions when the server closes', async () => {
    const { ads, server, url } = await serve(() => {}, { consent: { mode: 'opt-out' } });
    const dispose = flushOnShutdown(server, ads, { signals: [] });
    await fetch(`${url}/order`, { method: 'POST' });
    expect(sandbox.events()).toHaveLength(0);
    await stop(server);
    await expect.poll(() => sandbox.events().length).toBe(1);
    dispose();
  });
});

describe('process lifecycle (a real app in a child process)', () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'shutdown-app.mjs');

  it('closing the server flushes and leaves no open handles: the process exits by itself', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [fixture, sandbox.endpoint, 'close'], {
      timeout: 15_000,
    });
    expect(stdout).toContain('tracked queued');
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['lead_close']);
  });

  it.each([
    ['without other handlers, SIGTERM flushes and then stops the process', 'none'],
    ["the app's own SIGTERM handler still runs", 'own-handler'],
  ])('%s', async (_label, handler) => {
    const child = spawn(process.execPath, [fixture, sandbox.endpoint, 'signal', handler], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    await expect.poll(() => stdout, { timeout: 10_000 }).toContain('tracked queued');
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    child.kill('SIGTERM');
    const how = await exited;
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['lead_signal']);
    if (handler === 'own-handler') {
      expect(stdout).toContain('app handler ran');
      expect(how).toBe(0);
    } else expect(how).toBe('SIGTERM');
  });
});
