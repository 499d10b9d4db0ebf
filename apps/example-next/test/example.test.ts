import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_KEY, startNext } from './next-server.js';

let sandbox: Sandbox;
let app: Awaited<ReturnType<typeof startNext>>;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  app = await startNext(sandbox);
});
afterAll(async () => {
  await app?.stop();
  await sandbox?.close();
});

describe('example-next under next start', () => {
  it('the proxy sets __oppref on the landing page once consent is given, and a CSP nonce reaches the pixel', async () => {
    const landing = await fetch(`${app.url}/?oppref=next-click-1`, {
      headers: { cookie: 'demo_consent=granted' },
    });
    expect(landing.headers.getSetCookie().find((c) => c.startsWith('__oppref='))).toMatch(
      /^__oppref=next-click-1; Path=\/; Max-Age=2592000; SameSite=Lax/,
    );
    const csp = landing.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(await landing.text()).toContain(`nonce="${nonce}"`);
    const unknown = await fetch(`${app.url}/?oppref=next-click-1`);
    expect(unknown.headers.getSetCookie().some((c) => c.startsWith('__oppref='))).toBe(false);
  });

  it("a route handler's response does not wait for the send (sandbox latency 5 s)", async () => {
    sandbox.reset();
    sandbox.setFaults([{ latencyMs: 5_000, times: 'always' }]);
    const started = performance.now();
    const response = await fetch(`${app.url}/api/orders`, {
      method: 'POST',
      headers: { cookie: 'demo_consent=granted; __oppref=next-click-2' },
    });
    const { id } = await response.json();
    const answeredIn = performance.now() - started;
    // Order, not a stopwatch: the response came back before the endpoint had answered.
    expect(sandbox.events().some((e) => e.event.id === id)).toBe(false);
    await expect
      .poll(() => sandbox.events().find((e) => e.event.id === id)?.event.oppref, { timeout: 15_000 })
      .toBe('next-click-2');
    const arrivedIn = performance.now() - started;
    console.info(
      `route handler answered in ${answeredIn.toFixed(0)} ms; the conversion arrived after ${arrivedIn.toFixed(0)} ms`,
    );
    sandbox.setFaults([]);
  });

  it('the proxy stores the landing oppref byte for byte (withChatgptAds in next.config)', async () => {
    // Raw request lines: fetch() would normalise the query itself. The apostrophe is sent as every
    // browser sends it (%27, the URL Standard's query encoding).
    for (const value of ['gAAAAB-Zm9vYmFy_x-1Zw==', 'a~b', 'a+b', 'a%2Bb', 'a%27b', 'gAAAAB~x%2B+y==']) {
      const setCookies = await new Promise<string[]>((resolve, reject) => {
        const { hostname, port } = new URL(app.url);
        const req = httpRequest(
          { host: hostname, port, path: `/?oppref=${value}`, headers: { cookie: 'demo_consent=granted' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.headers['set-cookie'] ?? []));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(
        setCookies.find((c) => c.startsWith('__oppref=')),
        value,
      ).toBe(`__oppref=${value}; Path=/; Max-Age=2592000; SameSite=Lax`);
    }
    expect(app.log()).not.toContain('without the raw request URL');
  });

  it('the same handler runs on the Edge runtime', async () => {
    const response = await fetch(`${app.url}/api/edge-orders`, {
      method: 'POST',
      headers: { cookie: 'demo_consent=granted' },
    });
    expect(response.status).toBe(200);
    const { id } = await response.json();
    await expect.poll(() => sandbox.events().some((e) => e.event.id === id), { timeout: 15_000 }).toBe(true);
  });

  it('no client bundle contains the API key', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(join(import.meta.dirname, '..', '.next', 'static'));
    const scripts = files.filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(3);
    const leaking = scripts.filter((file) => readFileSync(file, 'utf8').includes(CANARY_KEY));
    expect(leaking).toEqual([]);
  });
});
