import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyApp } from '../src/app.js';

const SECRET = 'shpss_app_secret_for_tests';
const API_KEY = 'app-client-id';
const SHOP = 'northwind.myshopify.com';
const CAPI_KEY = 'sk_live_northwind_SECRET_9f3a';

// A stand-in for Shopify's OAuth token endpoint: the app's server-side fetch reaches it instead of
// the network, and it checks what Shopify checks.
const tokenRequests: Array<Record<string, string>> = [];
setAbstractFetchFunc(async (input, init) => {
  const url = new URL(String(input));
  if (url.hostname === SHOP && url.pathname === '/admin/oauth/access_token') {
    const body = JSON.parse(String(init?.body));
    tokenRequests.push(body);
    if (body.client_id !== API_KEY || body.client_secret !== SECRET || body.code !== 'auth-code-1') {
      return new Response('{"error":"invalid_request"}', { status: 400 });
    }
    return Response.json({ access_token: 'shpat_offline_token', scope: 'read_orders' });
  }
  return fetch(input, init);
});

let sandbox: Sandbox;
let server: Server;
let base: string;
let dbPath: string;
let close: () => Promise<void>;
const jar = new Map<string, string>();

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  dbPath = join(mkdtempSync(join(tmpdir(), 'shopify-app-')), 'app.db');
  const created = createShopifyApp({
    apiKey: API_KEY,
    apiSecret: SECRET,
    hostName: 'app.example.test',
    dbPath,
    conversionsEndpoint: sandbox.endpoint,
  });
  close = created.close;
  server = await new Promise((resolve) => {
    const s = created.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await close?.();
  await sandbox?.close();
});

async function browse(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, {
    ...init,
    redirect: 'manual',
    headers: {
      ...(init.headers as Record<string, string>),
      // shopify-api turns bots away from OAuth; this is a merchant's browser.
      'user-agent':
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
      cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
    },
  });
  for (const cookie of response.headers.getSetCookie()) {
    const [pair = ''] = cookie.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return response;
}

function webhook(
  path: string,
  topic: string,
  body: string,
  options: { secret?: string; eventId?: string } = {},
) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-hmac-sha256': createHmac('sha256', options.secret ?? SECRET)
        .update(body)
        .digest('base64'),
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': SHOP,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': `wh_${Math.random()}`,
      'x-shopify-event-id': options.eventId ?? `evt_${Math.random()}`,
    },
  });
}

const orderBody = JSON.stringify({
  id: 5_801_234_567,
  created_at: new Date().toISOString(),
  currency: 'JPY',
  total_price: '8900',
  total_price_set: {
    shop_money: { amount: '8900', currency_code: 'JPY' },
    presentment_money: { amount: '8900', currency_code: 'JPY' },
  },
  source_name: 'web',
  email: 'yuki@example.jp',
  note_attributes: [
    { name: '_oppref', value: 'gAAAAB-shopify-app' },
    { name: '_chatgpt_ads_consent', value: 'granted' },
  ],
  line_items: [{ id: 1, product_id: 2, variant_id: 3, title: 'Beans', quantity: 1, price: '8900' }],
});

describe('the Shopify app', () => {
  it('installs through OAuth, stores the session, saves settings with the key encrypted, and sends that shop’s orders', async () => {
    expect((await browse('/settings')).status).toBe(401);

    const begin = await browse(`/auth?shop=${SHOP}`);
    expect(begin.status).toBe(302);
    const authorize = new URL(begin.headers.get('location')!);
    expect(authorize.host).toBe(SHOP);
    expect(authorize.pathname).toBe('/admin/oauth/authorize');
    expect(authorize.searchParams.get('scope')).toBe('read_orders');

    // Shopify sends the merchant back with a signed query.
    const query = new URLSearchParams(
      Object.entries({
        code: 'auth-code-1',
        host: 'bm9ydGh3aW5k',
        shop: SHOP,
        state: authorize.searchParams.get('state')!,
        timestamp: String(Math.floor(Date.now() / 1000)),
      }).sort(([a], [b]) => a.localeCompare(b)),
    );
    query.set('hmac', createHmac('sha256', SECRET).update(query.toString()).digest('hex'));
    const callback = await browse(`/auth/callback?${query}`);
    expect(callback.status).toBe(303);
    expect(tokenRequests).toHaveLength(1);
    const session = new Database(dbPath).prepare('SELECT id, shop FROM sessions').get();
    expect(session).toMatchObject({ id: `offline_${SHOP}`, shop: SHOP });

    const saved = await browse('/settings', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        pixelId: 'px_northwind',
        apiKey: CAPI_KEY,
        consentPolicy: 'skip-in-eea-uk-ch',
        shopCountry: 'JP',
      }).toString(),
    });
    expect(saved.status).toBe(303);
    const page = await (await browse('/settings?note=Saved')).text();
    expect(page).toContain('•••• 9f3a');
    expect(page).not.toContain(CAPI_KEY);
    const stored = new Database(dbPath).prepare('SELECT api_key_encrypted FROM shop_settings').get() as {
      api_key_encrypted: string;
    };
    expect(stored.api_key_encrypted).not.toContain('9f3a');

    const test = await browse('/settings/test', { method: 'POST' });
    expect(decodeURIComponent(test.headers.get('location')!)).toContain('Test event accepted');
    expect(sandbox.requests().at(-1)).toMatchObject({
      validateOnly: true,
      status: 200,
      pixelId: 'px_northwind',
    });
    expect(sandbox.events()).toEqual([]);

    const delivered = await webhook('/webhooks/orders/create', 'orders/create', orderBody);
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

  it('answers the webhook in well under 500 ms while the endpoint takes 3 s, and the conversion still arrives', async () => {
    sandbox.reset();
    sandbox.setFaults([{ latencyMs: 3_000, times: 'always' }]);
    const started = performance.now();
    const response = await webhook(
      '/webhooks/orders/create',
      'orders/create',
      orderBody.replace('5801234567', '5801234568'),
    );
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(500);
    await expect.poll(() => sandbox.events().length, { timeout: 10_000 }).toBe(1);
    sandbox.setFaults([]);
  });

  it('compliance webhooks: a forged one gets 401; shop/redact purges the shop', async () => {
    const payload = JSON.stringify({ shop_id: 954889, shop_domain: SHOP });
    expect((await webhook('/webhooks/compliance', 'shop/redact', payload, { secret: 'forged' })).status).toBe(
      401,
    );
    expect(
      (
        await webhook(
          '/webhooks/compliance',
          'customers/data_request',
          JSON.stringify({ shop_domain: SHOP, customer: { id: 1 } }),
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await webhook(
          '/webhooks/compliance',
          'customers/redact',
          JSON.stringify({ shop_domain: SHOP, customer: { id: 1 } }),
        )
      ).status,
    ).toBe(200);
    expect(new Database(dbPath).prepare('SELECT COUNT(*) AS n FROM shop_settings').get()).toMatchObject({
      n: 1,
    });
    expect((await webhook('/webhooks/compliance', 'shop/redact', payload)).status).toBe(200);
    expect(new Database(dbPath).prepare('SELECT COUNT(*) AS n FROM shop_settings').get()).toMatchObject({
      n: 0,
    });
    expect(new Database(dbPath).prepare('SELECT COUNT(*) AS n FROM sessions').get()).toMatchObject({ n: 0 });
    expect((await browse('/settings')).status).toBe(401);
  });
});
