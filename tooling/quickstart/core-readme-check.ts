// The core README's blocks, compiled from the packed tarballs in the fresh docs project, run and
// checked as a reader would expect them to behave: the Usage example delivers the order with the
// hashes shown, each consent list resolves its CMP, and the request handler's pixel shares the
// event id with the server event. Copied next to the blocks by run.mjs and compiled with them.
import { deepStrictEqual, match, ok, strictEqual } from 'node:assert/strict';
import { resolveConsent } from '@chatgpt-ads/core';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { cookiebotCookie, oneTrustCookie, tcString } from './consent-fixtures.js';

const sandbox = await startSandbox({ port: 0 });
const sandboxOrigin = new URL(sandbox.endpoint).origin;
// Blocks without an endpoint option would reach OpenAI: their requests go to the sandbox instead.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) =>
  realFetch(
    String(input instanceof Request ? input.url : input).replace('https://bzr.openai.com', sandboxOrigin),
    init,
  );
process.env.CHATGPT_ADS_PIXEL_ID = 'px_readme';
process.env.CHATGPT_ADS_API_KEY = 'key_readme';
process.env.CHATGPT_ADS_ENDPOINT = sandbox.endpoint;

try {
  // Usage: queues and delivers the order.
  const logged: unknown[] = [];
  const log = console.log;
  console.log = (value: unknown) => logged.push(value);
  await import('./packages-core-README-md-1.js');
  console.log = log;
  deepStrictEqual(logged, [{ status: 'queued', id: 'order_1001', warnings: [] }]);
  const usage = sandbox.events().find((e) => e.event.id === 'order_1001');
  ok(usage, 'the Usage order did not arrive');
  strictEqual(usage.pixelId, 'px_readme');
  const event = usage.event as unknown as Record<string, unknown> & { user: Record<string, unknown> };
  strictEqual(event.oppref, 'gAAAAB-click-1');
  strictEqual(event.source_url, 'https://shop.example/checkout');
  deepStrictEqual(event.data, { type: 'contents', amount: 12999, currency: 'USD' });
  deepStrictEqual(event.user.emails_sha256, [
    '6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110',
  ]);
  deepStrictEqual(event.user.phone_numbers_sha256, [
    '758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0',
  ]);

  // Consent: the configuration runs and each list resolves its CMP.
  const lists = await import('./packages-core-README-md-3.js');
  const ask = (resolvers: Parameters<typeof resolveConsent>[1], cookies: Record<string, string>) =>
    resolveConsent({ cookie: (n) => cookies[n], header: () => undefined }, resolvers).state;
  strictEqual(ask(lists.alternatives.tcf, { 'euconsent-v2': tcString({ purposes: [1, 7] }) }), 'granted');
  strictEqual(ask(lists.oneTrust, { OptanonConsent: oneTrustCookie({ C0004: 0 }) }), 'denied');
  strictEqual(
    ask(lists.alternatives.cookiebot, { CookieConsent: cookiebotCookie({ marketing: true }) }),
    'granted',
  );
  strictEqual(ask(lists.alternatives.consentMode, { __gcm_ads: 'granted' }), 'granted');
  await lists.conversions.shutdown();

  // Reading a request: tracks with the landing click id, and the pixel shares the id.
  const { handleOrder, conversions } = await import('./packages-core-README-md-2.js');
  const response = await handleOrder(
    new Request('https://shop.example/checkout?oppref=gAAAAB-handler', {
      headers: { cookie: '__oaiq_consent=true' },
    }),
  );
  match(response.headers.getSetCookie()[0] ?? '', /^__oppref=gAAAAB-handler;/);
  const html = await response.text();
  const nonce = /'nonce-([^']+)'/.exec(response.headers.get('content-security-policy') ?? '')?.[1];
  ok(html.includes(`<script nonce="${nonce}">`), 'the pixel does not carry the CSP nonce');
  ok(html.includes('"event_id":"order_1001"'), "the pixel's event_id is not the order's id");
  await conversions.shutdown();
  const handled = sandbox.events().filter((e) => e.event.oppref === 'gAAAAB-handler');
  deepStrictEqual(
    handled.map((e) => e.event.id),
    ['order_1001'],
  );
  console.log('ok   the core README blocks behave as the README says (Usage, Consent, Reading a request)');
} finally {
  globalThis.fetch = realFetch;
  await sandbox.close();
}
