// Runs the Usage example of README.md as written, against a scripted endpoint.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { fakeEndpoint } from './fake-endpoint.js';

const packageDir = join(import.meta.dirname, '..');
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const endpoint = fakeEndpoint();

beforeAll(() => {
  vi.stubGlobal('fetch', endpoint.fetch);
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_readme');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'key_readme');
});
afterAll(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

it('the Usage example queues and delivers the order', async () => {
  const usage = readme.slice(readme.indexOf('## Usage'));
  const code = /```ts\n([\s\S]*?)```/.exec(usage)?.[1];
  expect(code).toContain('createConversions');
  const dir = join(packageDir, 'test-output');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'readme-usage.ts');
  writeFileSync(file, `${code!.replaceAll("'@chatgpt-ads/core'", "'../src/index.js'")}\nexport {};\n`);

  const logged: unknown[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((value) => logged.push(value));
  await import(/* @vite-ignore */ file);
  log.mockRestore();

  expect(logged).toEqual([{ status: 'queued', id: 'order_1001', warnings: [] }]);
  const [request] = endpoint.requests;
  expect(request?.url.searchParams.get('pid')).toBe('px_readme');
  expect(request?.envelope.events).toEqual([
    expect.objectContaining({
      id: 'order_1001',
      oppref: 'gAAAAB-click-1',
      source_url: 'https://shop.example/checkout',
      data: { type: 'contents', amount: 12999, currency: 'USD' },
      user: expect.objectContaining({
        emails_sha256: ['6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'],
        phone_numbers_sha256: ['758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0'],
      }),
    }),
  ]);
});

it('the Consent section configuration runs and each list resolves its CMP', async () => {
  const { cookiebotCookie, oneTrustCookie, tcString } = await import('@tooling/consent-fixtures');
  const consent = readme.slice(readme.indexOf('### Consent'), readme.indexOf('## Options'));
  const code = /```ts\n([\s\S]*?)```/.exec(consent)?.[1];
  expect(code).toContain('tcfConsent');
  const dir = join(packageDir, 'test-output');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'readme-consent.ts');
  writeFileSync(
    file,
    `${code!
      .replaceAll("'@chatgpt-ads/core/tcf'", "'../src/tcf.js'")
      .replaceAll(
        "'@chatgpt-ads/core'",
        "'../src/index.js'",
      )}\nexport { tcf, oneTrust, cookiebot, consentMode };\n`,
  );
  const lists = await import(/* @vite-ignore */ file);
  const { resolveConsent } = await import('../src/consent.js');
  const ask = (resolvers: never[], cookies: Record<string, string>) =>
    resolveConsent({ cookie: (n) => cookies[n], header: () => undefined }, resolvers).state;
  expect(ask(lists.tcf, { 'euconsent-v2': tcString({ purposes: [1, 7] }) })).toBe('granted');
  expect(ask(lists.oneTrust, { OptanonConsent: oneTrustCookie({ C0004: 0 }) })).toBe('denied');
  expect(ask(lists.cookiebot, { CookieConsent: cookiebotCookie({ marketing: true }) })).toBe('granted');
  expect(ask(lists.consentMode, { __gcm_ads: 'granted' })).toBe('granted');
  await lists.conversions.shutdown();
});

it('the request handler tracks with the landing click id, and its pixel shares the id', async () => {
  const section = readme.slice(readme.indexOf('### Reading a request'), readme.indexOf('### Consent'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const file = join(packageDir, 'test-output', 'readme-request.ts');
  writeFileSync(
    file,
    `${code!.replaceAll("'@chatgpt-ads/core'", "'../src/index.js'")}\nexport { conversions };\n`,
  );
  const { handleOrder, conversions } = await import(/* @vite-ignore */ file);
  const before = endpoint.requests.length;
  const response: Response = await handleOrder(
    new Request('https://shop.example/checkout?oppref=gAAAAB-handler', {
      headers: { cookie: '__oaiq_consent=true' },
    }),
  );
  expect(response.headers.getSetCookie()[0]).toMatch(/^__oppref=gAAAAB-handler;/);
  const html = await response.text();
  const nonce = /'nonce-([^']+)'/.exec(response.headers.get('content-security-policy') ?? '')?.[1];
  expect(html).toContain(`<script nonce="${nonce}">`);
  expect(html).toContain('"event_id":"order_1001"');
  await conversions.shutdown();
  expect(endpoint.requests.slice(before).flatMap((r) => r.envelope.events)).toEqual([
    expect.objectContaining({ id: 'order_1001', oppref: 'gAAAAB-handler' }),
  ]);
});
