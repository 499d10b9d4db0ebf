// The Next example's consent route handler attacked as another site would: open redirects through
// back=, and a cross-site post that grants consent for the visitor. The handler is called with real
// Requests, as Next calls it; no build needed.
import { describe, expect, it } from 'vitest';
import { localPath } from '../app/api/consent/guard';
import { POST } from '../app/api/consent/route';

const SITE = 'http://127.0.0.1:3002';

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
  return POST(
    new Request(`${SITE}/api/consent`, {
      method: 'POST',
      headers: { host: new URL(SITE).host, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ choice: 'accept', back }),
    }),
  );
}

describe('POST /api/consent back=', () => {
  it.each(REDIRECT_PAYLOADS)('%j redirects to a page on this site', async (back) => {
    const response = await postConsent(back, { origin: SITE });
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    expect(new URL(location, SITE).origin).toBe(SITE);
    expect(location).toMatch(/^\/(?![/\\])/);
    expect(location).not.toMatch(/[\t\n\r]/);
  });

  it('keeps a real local path with its query (the landing page and its oppref)', async () => {
    const response = await postConsent('/?oppref=gAAAAB-Zm9v_x-1Zw==&utm_source=chatgpt');
    expect(response.headers.get('location')).toBe('/?oppref=gAAAAB-Zm9v_x-1Zw==&utm_source=chatgpt');
    expect(localPath('/checkout#pay')).toBe('/checkout#pay');
  });

  it('a body that is not a form is no answer, not a server error', async () => {
    const response = await POST(
      new Request(`${SITE}/api/consent`, {
        method: 'POST',
        headers: { host: new URL(SITE).host, 'content-type': 'application/json' },
        body: '{',
      }),
    );
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
  });
});

describe('POST /api/consent from another site', () => {
  it.each<Record<string, string>>([
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site', origin: 'http://sub.127.0.0.1.nip.io:3002' },
  ])('is refused without setting a cookie: %j', async (headers) => {
    const response = await postConsent('/', headers);
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("the app's own banner (same origin) still works", async () => {
    const response = await postConsent('/', { origin: SITE, 'sec-fetch-site': 'same-origin' });
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie().join()).toContain('demo_consent=granted');
  });
});
