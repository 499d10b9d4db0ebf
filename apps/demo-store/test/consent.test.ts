// The consent form attacked as another site would: open redirects through back=, a cross-site post
// that grants consent for the visitor, a malformed cookie, and the store reached from the network.
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPath } from '../src/consent-guard.js';
import { type RunningDemo, startDemo } from '../src/demo.js';

let demo: RunningDemo;
beforeAll(async () => {
  demo = await startDemo({ storePort: 0, sandboxPort: 0 });
});
afterAll(() => demo.close());

// Ways to write "somewhere else" in a back= parameter: each must end on this site.
const REDIRECT_PAYLOADS = [
  '//evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  'https://evil.example',
  'http:evil.example',
  '/%2F%2Fevil.example',
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '\t//evil.example',
  ' //evil.example',
  '/\\/evil.example',
  '/.//evil.example',
  '/..//evil.example',
  '/./\\evil.example',
  'javascript:alert(1)',
  '///evil.example',
  '/\u0000/evil.example',
];

function postConsent(back: string, headers: Record<string, string> = {}) {
  return fetch(`${demo.storeUrl}/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ choice: 'accept', back }),
  });
}

describe('POST /consent back=', () => {
  it.each(REDIRECT_PAYLOADS)('%j redirects to a page on this site', async (back) => {
    const origin = new URL(demo.storeUrl).origin;
    const response = await postConsent(back, { origin });
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    // Resolved the way a browser resolves it.
    expect(new URL(location, demo.storeUrl).origin).toBe(origin);
    expect(location).toMatch(/^\/(?![/\\])/);
    expect(location).not.toMatch(/[\t\n\r]/);
  });

  it('keeps a real local path with its query (the landing page and its oppref)', async () => {
    const response = await postConsent('/?oppref=gAAAAB-Zm9v_x-1Zw==&utm_source=chatgpt');
    expect(response.headers.get('location')).toBe('/?oppref=gAAAAB-Zm9v_x-1Zw==&utm_source=chatgpt');
    expect(localPath('/cart#top')).toBe('/cart#top');
  });
});

describe('POST /consent from another site', () => {
  it.each<Record<string, string>>([
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site', origin: 'http://sub.localhost:1234' },
  ])('is refused without setting a cookie: %j', async (headers) => {
    const response = await postConsent('/', headers);
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("the store's own form (same origin) still works", async () => {
    const response = await postConsent('/', {
      origin: new URL(demo.storeUrl).origin,
      'sec-fetch-site': 'same-origin',
    });
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie().join()).toContain('demo_consent=granted');
  });
});

describe('POST /pixel (the "block the pixel" switch)', () => {
  const postSwitch = (headers: Record<string, string>) =>
    fetch(`${demo.storeUrl}/pixel`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ pixel: 'blocked', back: '//evil.example' }),
    });

  it('is refused from another site without setting a cookie', async () => {
    const response = await postSwitch({ origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('from the store itself, blocks the pixel and returns to a page on this site', async () => {
    const response = await postSwitch({ origin: new URL(demo.storeUrl).origin });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    const cookie = response.headers.getSetCookie().join();
    expect(cookie).toContain('demo_pixel=blocked');
    const page = await fetch(`${demo.storeUrl}/`, {
      headers: { cookie: 'demo_consent=granted; demo_pixel=blocked' },
    });
    const html = await page.text();
    expect(html).not.toContain('oaiq');
    expect(html).toContain('Pixel blocked');
  });
});

describe('a malformed consent cookie', () => {
  it.each(['%E0%A4%A', '%', '%ZZ', 'granted%'])(
    '%j is treated as no answer, not a server error',
    async (value) => {
      const response = await fetch(`${demo.storeUrl}/?oppref=click-1`, {
        headers: { cookie: `demo_consent=${value}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie().some((c) => c.startsWith('__oppref='))).toBe(false);
      expect(await response.text()).toContain('Consent: unknown');
    },
  );
});

describe('listening', () => {
  it('binds 127.0.0.1 by default: the store is not reachable from the network', async () => {
    expect(demo.storeAddress.address).toBe('127.0.0.1');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) {
      console.warn('no non-loopback IPv4 interface on this machine: connection check skipped');
      return;
    }
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: external.address, port: demo.storeAddress.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });
});
