import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyApp, type ShopifyAppOptions } from '../src/app.js';
import { AppConfigError } from '../src/keys.js';
import {
  Browser,
  deliver,
  gatedEndpoint,
  install,
  key,
  orderBody,
  SECRET,
  type StartedApp,
  startApp,
  tokenRequests,
} from './helpers.js';

const SHOP = 'northwind.myshopify.com';
const CAPI_KEY = 'sk_live_northwind_SECRET_9f3a';

let sandbox: Sandbox;
let gate: Awaited<ReturnType<typeof gatedEndpoint>>;
let app: StartedApp;
let merchant: Browser;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  gate = await gatedEndpoint(sandbox.endpoint);
  app = await startApp({ conversionsEndpoint: gate.endpoint });
  merchant = new Browser(app.base);
});
afterAll(async () => {
  await app?.close();
  await gate?.close();
  await sandbox?.close();
});

describe('the Shopify app', () => {
  it('installs through OAuth, stores the session, saves settings with the key encrypted, and sends that shop’s orders', async () => {
    expect((await merchant.fetch('/settings')).status).toBe(401);

    const { authorize } = await install(app, SHOP, merchant);
    expect(authorize.host).toBe(SHOP);
    expect(authorize.pathname).toBe('/admin/oauth/authorize');
    expect(authorize.searchParams.get('scope')).toBe('read_orders');
    expect(tokenRequests.at(-1)).toMatchObject({ client_secret: SECRET, code: 'auth-code-1' });
    const session = new Database(app.options.dbPath).prepare('SELECT id, shop FROM sessions').get();
    expect(session).toMatchObject({ id: `offline_${SHOP}`, shop: SHOP });

    const saved = await merchant.post('/settings', {
      pixelId: 'px_northwind',
      apiKey: CAPI_KEY,
      consentPolicy: 'skip-in-eea-uk-ch',
      shopCountry: 'JP',
    });
    expect(saved.status).toBe(303);
    const page = await (await merchant.fetch('/settings')).text();
    expect(page).toContain('Saved.');
    expect(page).toContain('•••• 9f3a');
    expect(page).not.toContain(CAPI_KEY);
    const stored = new Database(app.options.dbPath)
      .prepare('SELECT api_key_encrypted FROM shop_settings')
      .get() as {
      api_key_encrypted: string;
    };
    expect(stored.api_key_encrypted).toMatch(/^v1\.k1\./);
    expect(stored.api_key_encrypted).not.toContain('9f3a');
    // The note is shown once, from the session: it is never read from the URL.
    expect(await (await merchant.fetch('/settings')).text()).not.toContain('Saved.');

    const test = await merchant.post('/settings/test');
    expect(test.status).toBe(303);
    expect(await (await merchant.fetch('/settings')).text()).toContain('Test event accepted');
    expect(sandbox.requests().at(-1)).toMatchObject({
      validateOnly: true,
      status: 200,
      pixelId: 'px_northwind',
    });
    expect(sandbox.events()).toEqual([]);

    const delivered = await deliver(
      app.base,
      '/webhooks/orders/create',
      'orders/create',
      orderBody(5_801_234_567),
    );
    expect(delivered.status).toBe(200);
    await expect.poll(() => sandbox.events().length, { timeout: 5_000 }).toBe(1);
    expect(sandbox.events()[0]).toMatchObject({
      pixelId: 'px_northwind',
      event: {
        id: 'shopify_order_5801234567',
        oppref: 'gAAAAB-shopify-app',
        data: { amount: 8900, currency: 'JPY' },
      },
    });
  });

  it('answers Shopify before the endpoint answers, and the conversion arrives after', async () => {
    sandbox.reset();
    gate.steps.length = 0;
    gate.hold();
    // A webhook that waited for the send could not answer while the endpoint is held; the guard
    // opens it anyway so such a webhook fails on the order below instead of hanging the suite.
    const guard = setTimeout(() => gate.open(), 15_000);
    const response = await deliver(
      app.base,
      '/webhooks/orders/create',
      'orders/create',
      orderBody(5_801_234_568),
    );
    gate.steps.push(`webhook answered ${response.status}`);
    gate.open();
    // The sandbox stores the event before the gate sees its answer: wait for the step itself.
    const ours = () =>
      gate.steps
        .filter((step) => step.startsWith('webhook') || step.includes('5801234568'))
        .map((step) => step.replace(/^(endpoint answered).*/s, '$1'));
    await expect.poll(ours, { timeout: 15_000 }).toEqual(['webhook answered 200', 'endpoint answered']);
    clearTimeout(guard);
    expect(sandbox.events().some((stored) => stored.event.id === 'shopify_order_5801234568')).toBe(true);
  });

  it('takes a 90-line-item order (about 145 KB, past the 100 KB default) end to end', async () => {
    sandbox.reset();
    const body = orderBody(5_801_234_590, 90);
    expect(Buffer.byteLength(body)).toBeGreaterThan(140_000);
    expect((await deliver(app.base, '/webhooks/orders/create', 'orders/create', body)).status).toBe(200);
    await expect.poll(() => sandbox.events().length, { timeout: 5_000 }).toBe(1);
    expect((sandbox.events()[0]?.event.data as { contents?: unknown[] } | undefined)?.contents).toHaveLength(
      90,
    );
  });

  it('answers 200 to a signed body that is not JSON, logs and counts it (Shopify must not redeliver it)', async () => {
    const response = await deliver(app.base, '/webhooks/orders/create', 'orders/create', 'id=1&not=json');
    expect(response.status).toBe(200);
    expect(app.webhook.stats().unreadable).toBe(1);
    expect(app.logged.some((line) => /not JSON.*answered 200/.test(line))).toBe(true);
  });

  it('answers an empty POST without a 500 on every route', async () => {
    const empty = { method: 'POST' } as const;
    expect((await merchant.fetch('/settings', empty)).status).toBe(403);
    expect((await merchant.fetch('/settings/test', empty)).status).toBe(403);
    expect((await merchant.fetch('/logout', empty)).status).toBe(403);
    expect((await new Browser(app.base).fetch('/settings', empty)).status).toBe(401);
    for (const path of ['/webhooks/orders/create', '/webhooks/compliance']) {
      expect((await deliver(app.base, path, 'orders/create', undefined, { contentType: null })).status).toBe(
        401,
      );
      expect((await deliver(app.base, path, 'orders/create', '')).status).toBe(401);
    }
  });

  it('never shows a stack: an oversized body and an unsupported charset get a plain status line', async () => {
    const big = await deliver(
      app.base,
      '/webhooks/orders/create',
      'orders/create',
      'x'.repeat(6 * 1024 * 1024),
    );
    const charset = await merchant.fetch('/settings', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=klingon' },
      body: 'pixelId=px',
    });
    for (const [response, status] of [
      [big, 413],
      [charset, 415],
    ] as const) {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).not.toMatch(/\bat \S|node_modules|\/work\/|Error:/);
    }
  });

  it('compliance webhooks: a forged one gets 401; data requests are answered; shop/redact purges the shop', async () => {
    const payload = JSON.stringify({ shop_id: 954889, shop_domain: SHOP });
    expect(
      (await deliver(app.base, '/webhooks/compliance', 'shop/redact', payload, { secret: 'forged' })).status,
    ).toBe(401);
    for (const topic of ['customers/data_request', 'customers/redact']) {
      const body = JSON.stringify({ shop_domain: SHOP, customer: { id: 1 } });
      expect((await deliver(app.base, '/webhooks/compliance', topic, body)).status).toBe(200);
    }
    const count = (table: string) =>
      (new Database(app.options.dbPath).prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number })
        .n;
    expect(count('shop_settings')).toBe(1);
    expect((await deliver(app.base, '/webhooks/compliance', 'shop/redact', payload)).status).toBe(200);
    expect([count('shop_settings'), count('sessions'), count('app_sessions')]).toEqual([0, 0, 0]);
    expect((await merchant.fetch('/settings')).status).toBe(401);
  });

  it('holds no key or secret where inspect or JSON.stringify can see it', async () => {
    const other = await startApp({ conversionsEndpoint: sandbox.endpoint });
    const keys = other.options.encryptionKeys as string;
    const browser = (await install(other, SHOP)).browser;
    await browser.post('/settings', { pixelId: 'px_n', apiKey: CAPI_KEY });
    const settings = other.store.settings(SHOP);
    expect(settings?.apiKey).toBe(CAPI_KEY); // still usable by the code that needs it
    for (const value of [other, other.store, other.webhook, settings]) {
      for (const shown of [
        inspect(value, { depth: 8 }),
        inspect(value, { depth: 8, showHidden: true }),
        JSON.stringify(value) ?? '',
      ]) {
        expect(shown).not.toContain(CAPI_KEY);
        expect(shown).not.toContain(SECRET);
        expect(shown).not.toContain(keys.slice(3));
      }
    }
    await other.close();
  });

  it('refuses to start without encryption keys or with a malformed one, without echoing the secret', () => {
    expect(() => startAppSync({ encryptionKeys: undefined })).toThrow(AppConfigError);
    expect(() => startAppSync({ encryptionKeys: '' })).toThrow(/CHATGPT_ADS_ENCRYPTION_KEYS is not set/);
    expect(() => startAppSync({ encryptionKeys: 'k1:c2hvcnQtc2VjcmV0' })).toThrow(
      /"k1" must be base64 or base64url of at least 32 random bytes/,
    );
    expect(() => startAppSync({ encryptionKeys: 'k1:c2hvcnQtc2VjcmV0' })).not.toThrow(/c2hvcnQtc2VjcmV0/);
    expect(() => startAppSync({ encryptionKeys: 'nocolon' })).toThrow(/entry 1 is not "id:secret"/);
    expect(() => startAppSync({ encryptionKeys: `${key('k1')},${key('k1')}` })).toThrow(/listed twice/);
  });
});

function startAppSync(overrides: Partial<ShopifyAppOptions>) {
  return createShopifyApp({
    apiKey: 'k',
    apiSecret: SECRET,
    hostName: 'app.example.test',
    dbPath: join(mkdtempSync(join(tmpdir(), 'shopify-app-config-')), 'app.db'),
    encryptionKeys: key('k1'),
    ...overrides,
  });
}
