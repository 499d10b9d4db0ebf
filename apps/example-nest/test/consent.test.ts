// The Nest example's consent form attacked as another site would: open redirects through back=, a
// cross-site post that grants consent for the visitor, a malformed cookie, and the app reached from
// the network.
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleNest } from '../src/app.js';
import { localPath } from '../src/consent-guard.js';

let sandbox: Sandbox;
let app: INestApplication;
let url: string;
let address: { address: string; port: number };
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  ({ app, url, address } = await startExampleNest(
    { endpoint: sandbox.endpoint, pixelScriptUrl: sandbox.pixelScriptUrl },
    0,
  ));
});
afterAll(async () => {
  await app.close();
  await sandbox.close();
});

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
  return fetch(`${url}/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ choice: 'accept', back }),
  });
}

describe('POST /consent back=', () => {
  it.each(REDIRECT_PAYLOADS)('%j redirects to a page on this site', async (back) => {
    const origin = new URL(url).origin;
    const response = await postConsent(back, { origin });
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    // Resolved the way a browser resolves it.
    expect(new URL(location, url).origin).toBe(origin);
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

  it("the app's own form (same origin) still works", async () => {
    const response = await postConsent('/', {
      origin: new URL(url).origin,
      'sec-fetch-site': 'same-origin',
    });
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie().join()).toContain('demo_consent=granted');
  });
});

describe('a malformed consent cookie', () => {
  it.each(['%E0%A4%A', '%', '%ZZ', 'granted%'])(
    '%j is treated as no answer, not a server error',
    async (value) => {
      const response = await fetch(`${url}/?oppref=click-1`, {
        headers: { cookie: `demo_consent=${value}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie().some((c) => c.startsWith('__oppref='))).toBe(false);
      expect(await response.text()).toContain('Cookies for ad measurement?'); // still asked: no answer
    },
  );
});

describe('listening', () => {
  it('binds 127.0.0.1 by default: the app is not reachable from the network', async () => {
    expect(address.address).toBe('127.0.0.1');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) {
      console.warn('no non-loopback IPv4 interface on this machine: connection check skipped');
      return;
    }
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: external.address, port: address.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });
});
