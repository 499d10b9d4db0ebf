import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { Session } from '@shopify/shopify-api';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyApp, type ShopifyAppOptions, withoutValues } from '../src/app.js';
import { AppConfigError } from '../src/keys.js';
import {
  Admin,
  API_KEY,
  deliver,
  gatedEndpoint,
  install,
  key,
  orderBody,
  SECRET,
  type StartedApp,
  shopifyStandIn,
  startApp,
} from './helpers.js';

const SHOP = 'northwind.myshopify.com';
const CAPI_KEY = 'sk_live_northwind_SECRET_9f3a';

let sandbox: Sandbox;
let gate: Awaited<ReturnType<typeof gatedEndpoint>>;
let app: StartedApp;
let merchant: Admin;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  gate = await gatedEndpoint(sandbox.endpoint);
  app = await startApp({ conversionsEndpoint: gate.endpoint });
  merchant = new Admin(app, SHOP);
});
afterAll(async () => {
  await app?.close();
  await gate?.close();
  await sandbox?.close();
});

const db = (started: StartedApp) => new Database(started.options.dbPath as string);

describe('opening the app from the Shopify admin', () => {
  it('an embedded launch with no cookie reaches the settings page; the session token is exchanged for an offline token, stored', async () => {
    const before = shopifyStandIn.tokenRequests.length;
    // Shopify's first load may come without a token: the page has App Bridge fetch one and reload.
    const bare = await fetch(`${app.base}/?shop=${SHOP}&host=aG9zdA&embedded=1`);
    expect(bare.status).toBe(200);
    const reload = await bare.text();
    expect(reload).toContain(`<meta name="shopify-api-key" content="${API_KEY}">`);
    expect(reload).toMatch(
      /<head>[\s\S]*?<script src="https:\/\/cdn\.shopify\.com\/shopifycloud\/app-bridge\.js"><\/script>/,
    );
    expect(reload).toContain('/assets/reload.js');
    expect(reload).not.toContain('id="pixelId"');

    const opened = await merchant.open();
    expect(opened.status).toBe(200);
    expect(opened.headers.getSetCookie()).toEqual([]);
    const page = await opened.text();
    expect(page).toContain('id="pixelId"');
    expect(page).toContain('<strong>Germany (DE)</strong>');
    expect(page).toContain('orders without a consent signal are skipped');
    expect(opened.headers.get('content-security-policy')).toContain(
      `frame-ancestors https://${SHOP} https://admin.shopify.com`,
    );

    // The token exchange: the app's credentials, the session token, an offline token asked for.
    const exchange = shopifyStandIn.tokenRequests.slice(before);
    expect(exchange).toHaveLength(1);
    expect(exchange[0]).toMatchObject({
      shop: SHOP,
      client_id: API_KEY,
      client_secret: SECRET,
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      requested_token_type: 'urn:shopify:params:oauth:token-type:offline-access-token',
    });
    const row = db(app).prepare('SELECT id, shop, data FROM sessions').get() as { id: string; data: string };
    expect(row).toMatchObject({ id: `offline_${SHOP}`, shop: SHOP });
    const stored = Session.fromPropertyArray(JSON.parse(row.data));
    expect(stored.isOnline).toBe(false);
    expect(shopifyStandIn.tokens.get(stored.accessToken ?? '')).toBe(SHOP);
    // The country came from the Admin API with that token.
    expect(shopifyStandIn.graphqlRequests.at(-1)).toMatchObject({ shop: SHOP, token: stored.accessToken });
    expect(shopifyStandIn.graphqlRequests.at(-1)?.query).toMatch(/billingAddress\s*\{\s*countryCodeV2/);

    // Opening it again (another day, another browser) exchanges nothing new.
    expect((await merchant.open()).status).toBe(200);
    expect(shopifyStandIn.tokenRequests.length - before).toBe(1);
  });

  it('session tokens: a valid one opens the settings page; expired, early, wrong audience, wrong signature, wrong issuer or another shop’s are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const bad: Record<string, string> = {
      expired: merchant.token({ exp: now - 60, nbf: now - 120, iat: now - 120 }),
      'not yet valid': merchant.token({ nbf: now + 120, iat: now + 120, exp: now + 180 }),
      'wrong audience': merchant.token({ aud: 'another-apps-client-id' }),
      'wrong signature': merchant.token({}, 'shpss_someone_elses_secret'),
      "another shop's dest": merchant.token({
        dest: 'https://contoso.myshopify.com',
        iss: 'https://contoso.myshopify.com/admin',
      }),
      'dest not a shop': merchant.token({ dest: 'https://evil.example', iss: 'https://evil.example/admin' }),
      'issuer not the shop’s admin': merchant.token({ iss: 'https://contoso.myshopify.com/admin' }),
      'unsigned (alg none)': `${merchant
        .token()
        .split('.')
        .slice(0, 2)
        .join('.')
        .replace(/^[^.]+/, Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url'))}.`,
      garbage: 'not-a-jwt',
    };
    const valid = await merchant.open({ id_token: merchant.token() });
    expect(valid.status).toBe(200);
    expect(await valid.text()).toContain('id="pixelId"');
    for (const [name, token] of Object.entries(bad)) {
      // The page: never the settings; App Bridge is asked for a fresh token, and a second failure stops.
      const page = await merchant.open({ id_token: token });
      const text = await page.text();
      expect({ name, status: page.status, settings: text.includes('id="pixelId"') }).toEqual({
        name,
        status: 200,
        settings: false,
      });
      expect(text).toContain('/assets/reload.js');
      const again = await merchant.open({ id_token: token, bounced: '2' });
      expect({ name, status: again.status }).toEqual({ name, status: 401 });
      // Genuine for contoso: refused for northwind's page above, and on the API it acts for contoso only.
      if (name === "another shop's dest") continue;
      // The API: 401, with the header that makes App Bridge retry with a new token.
      const api = await fetch(`${app.base}/api/status`, { headers: { authorization: `Bearer ${token}` } });
      expect({ name, status: api.status }).toEqual({ name, status: 401 });
      expect(api.headers.get('x-shopify-retry-invalid-session-request')).toBe('1');
    }
    // The page's shop must be the token's: another shop's valid token does not open this one.
    const contoso = new Admin(app, 'contoso.myshopify.com');
    const mixed = await merchant.open({ id_token: contoso.token(), bounced: '2' });
    expect(mixed.status).toBe(401);
    expect((await fetch(`${app.base}/api/status`)).status).toBe(401);
    expect(app.logged.join('\n')).toMatch(
      /session token is for contoso\.myshopify\.com, the request names northwind/,
    );
    expect(app.logged.join('\n')).not.toContain(bad.expired);
  });

  it('opened outside the admin (no shop), it says where to open it', async () => {
    const response = await fetch(`${app.base}/`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Open the app from your Shopify admin');
  });
});

describe('settings, test event and delivery status', () => {
  it('saves settings with the key encrypted, sends a test event, and sends that shop’s orders with its pixel id', async () => {
    const saved = await merchant.save({
      pixelId: 'px_northwind',
      apiKey: CAPI_KEY,
      consentPolicy: 'skip-in-eea-uk-ch',
    });
    expect(saved.status).toBe(200);
    const answer = await saved.json();
    expect(answer.keyDetails).toContain('ending in 9f3a');
    expect(JSON.stringify(answer)).not.toContain(CAPI_KEY);
    const page = await (await merchant.open()).text();
    expect(page).toContain('ending in 9f3a');
    expect(page).not.toContain(CAPI_KEY);
    const stored = db(app).prepare('SELECT api_key_encrypted FROM shop_settings').get() as {
      api_key_encrypted: string;
    };
    expect(stored.api_key_encrypted).toMatch(/^v1\.k1\./);
    expect(stored.api_key_encrypted).not.toContain('9f3a');

    // Saved again without a key: the stored one is kept.
    expect((await merchant.save({ pixelId: 'px_northwind' })).status).toBe(200);
    expect((await app.store.settings(SHOP))?.apiKey).toBe(CAPI_KEY);

    const test = await merchant.call('POST', '/api/test-event');
    expect(test.status).toBe(200);
    expect((await test.json()).message).toContain('accepted');
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
    await expect
      .poll(async () => (await merchant.status()).deliveries.find((d) => d.order === '#34567')?.outcome, {
        timeout: 5_000,
      })
      .toBe('sent');
  });

  it('refuses a save without a pixel id, key or policy with an error the merchant can act on', async () => {
    const other = new Admin(app, 'contoso.myshopify.com');
    for (const [fields, message] of [
      [{ pixelId: '' }, /Pixel ID/],
      [{ pixelId: 'px_c' }, /Conversions API key/],
      [{ pixelId: 'px_c', apiKey: 'sk', consentPolicy: 'sometimes' }, /consent signal/],
    ] as const) {
      const response = await other.save(fields);
      expect(response.status).toBe(400);
      expect((await response.json()).error).toMatch(message);
    }
    expect(await app.store.settings('contoso.myshopify.com')).toBeUndefined();
  });

  it('shows each order’s outcome without personal data: sent, skipped and why, not sent and why; and the backlog', async () => {
    sandbox.reset();
    sandbox.setFaults([{ rejectIds: ['shopify_order_6001'] }]);
    const orders = [
      orderBody(6001),
      orderBody(6002, 1, { test: true }),
      orderBody(6003, 1, { source_name: 'pos' }),
      orderBody(6004, 1, { note_attributes: [{ name: '_chatgpt_ads_consent', value: 'denied' }] }),
      orderBody(6005, 1, { note_attributes: [] }),
    ];
    for (const body of orders) {
      expect((await deliver(app.base, '/webhooks/orders/create', 'orders/create', body)).status).toBe(200);
    }
    const outcomes = async () =>
      Object.fromEntries(
        (await merchant.status()).deliveries
          .filter((d) => /^#600[1-5]$/.test(d.order))
          .map((d) => [d.order, `${d.outcome}: ${d.reason ?? ''}`]),
      );
    await expect
      .poll(async () => (await outcomes())['#6001'], { timeout: 10_000 })
      .toMatch(/^dead_lettered: Refused by ChatGPT Ads/);
    expect(await outcomes()).toMatchObject({
      '#6002': expect.stringMatching(/^skipped: Test order/),
      '#6003': expect.stringMatching(/^skipped: Not an online-store order/),
      '#6004': expect.stringMatching(/^skipped: The buyer declined/),
      // The shop is in Germany: without a consent signal the order is skipped under the default policy.
      '#6005': expect.stringMatching(/^skipped: No consent signal/),
    });
    const status = await merchant.status();
    expect(status.backlog).toBe(0);
    const shown = JSON.stringify(status);
    for (const personal of ['yuki@example.jp', 'gAAAAB-shopify-app', 'Tokyo', 'Marunouchi']) {
      expect(shown).not.toContain(personal);
    }
  });

  it('shows an endpoint’s reason without the values it may quote', () => {
    const hash = 'b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514';
    expect(withoutValues(`events[0].user.em[0]: not a SHA-256 digest: ${hash}x`)).toBe(
      'events[0].user.em[0]: not a SHA-256 digest: [value]',
    );
    expect(withoutValues('events[0].oppref: gAAAAB-shopify-app-click-id-value is too long')).toBe(
      'events[0].oppref: [value] is too long',
    );
    expect(withoutValues('events[0].id: this event id is rejected by a sandbox fault')).toBe(
      'events[0].id: this event id is rejected by a sandbox fault',
    );
    expect(withoutValues('x '.repeat(200)).length).toBeLessThanOrEqual(240);
  });

  it('a pixel id or key ChatGPT Ads refuses is shown as a problem; saving again sends what waited', async () => {
    sandbox.reset();
    sandbox.setFaults([{ status: 401, times: 'always' }]);
    expect(
      (await deliver(app.base, '/webhooks/orders/create', 'orders/create', orderBody(6101))).status,
    ).toBe(200);
    await expect
      .poll(async () => (await merchant.status()).halted, { timeout: 10_000 })
      .toMatch(/Check the Pixel ID and API key/);
    const waiting = await merchant.status();
    expect(waiting.backlog).toBe(1);
    expect(waiting.deliveries.find((d) => d.order === '#6101')?.outcome).toBe('queued');
    sandbox.setFaults([]);
    expect((await merchant.save({ pixelId: 'px_northwind' })).status).toBe(200);
    // A new order wakes the new client, which sends what waited in the shop's outbox too.
    expect(
      (await deliver(app.base, '/webhooks/orders/create', 'orders/create', orderBody(6102))).status,
    ).toBe(200);
    await expect
      .poll(
        async () =>
          (await merchant.status()).deliveries
            .filter((d) => /^#610[12]$/.test(d.order))
            .map((d) => d.outcome),
        {
          timeout: 10_000,
        },
      )
      .toEqual(['sent', 'sent']);
    const after = await merchant.status();
    expect(after.halted).toBeUndefined();
    expect(after.backlog).toBe(0);
  });

  it('answers Shopify before the endpoint answers; the panel shows the order waiting, then sent', async () => {
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
    await expect
      .poll(async () => (await merchant.status()).deliveries.find((d) => d.order === '#34568')?.outcome, {
        timeout: 5_000,
      })
      .toBe('queued');
    expect((await merchant.status()).backlog).toBe(1);
    gate.open();
    // The sandbox stores the event before the gate sees its answer: wait for the step itself.
    const ours = () =>
      gate.steps
        .filter((step) => step.startsWith('webhook') || step.includes('5801234568'))
        .map((step) => step.replace(/^(endpoint answered).*/s, '$1'));
    await expect.poll(ours, { timeout: 15_000 }).toEqual(['webhook answered 200', 'endpoint answered']);
    clearTimeout(guard);
    await expect
      .poll(async () => (await merchant.status()).deliveries.find((d) => d.order === '#34568')?.outcome, {
        timeout: 5_000,
      })
      .toBe('sent');
    expect((await merchant.status()).backlog).toBe(0);
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
    expect((await fetch(`${app.base}/api/settings`, empty)).status).toBe(401);
    expect((await fetch(`${app.base}/api/test-event`, empty)).status).toBe(401);
    expect((await merchant.call('POST', '/api/settings')).status).toBe(400);
    for (const path of ['/webhooks/orders/create', '/webhooks/compliance', '/webhooks/app/uninstalled']) {
      expect((await deliver(app.base, path, 'orders/create', undefined, { contentType: null })).status).toBe(
        401,
      );
      expect((await deliver(app.base, path, 'orders/create', '')).status).toBe(401);
    }
  });

  it('never shows a stack: an oversized body and malformed JSON get a plain status line', async () => {
    const big = await deliver(
      app.base,
      '/webhooks/orders/create',
      'orders/create',
      'x'.repeat(6 * 1024 * 1024),
    );
    const malformed = await merchant.call('POST', '/api/settings', undefined, {
      'content-type': 'application/json',
    });
    const broken = await fetch(`${app.base}/api/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${merchant.token()}`, 'content-type': 'application/json' },
      body: '{"pixelId":',
    });
    for (const [response, status] of [
      [big, 413],
      [broken, 400],
    ] as const) {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).not.toMatch(/\bat \S|node_modules|\/work\/|Error:/);
    }
    expect(malformed.status).toBeLessThan(500);
  });
});

describe('webhooks that end a shop', () => {
  it('app/uninstalled deletes the access token; opening the app again exchanges a new one', async () => {
    const shop = 'uninstall-me.myshopify.com';
    const admin = await install(app, shop);
    await admin.save({ pixelId: 'px_u', apiKey: 'sk_live_u_1234' });
    expect(await app.store.offlineSession(shop)).toBeDefined();
    const body = JSON.stringify({ id: 1, domain: shop });
    expect(
      (
        await deliver(app.base, '/webhooks/app/uninstalled', 'app/uninstalled', body, {
          shop,
          secret: 'forged',
        })
      ).status,
    ).toBe(401);
    expect(
      (await deliver(app.base, '/webhooks/app/uninstalled', 'app/uninstalled', body, { shop })).status,
    ).toBe(200);
    expect(await app.store.offlineSession(shop)).toBeUndefined();
    expect((await app.store.settings(shop))?.pixelId).toBe('px_u');
    const before = shopifyStandIn.tokenRequests.length;
    expect((await admin.open()).status).toBe(200);
    expect(shopifyStandIn.tokenRequests.length).toBe(before + 1);
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
      (db(app).prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE shop = ?`).get(SHOP) as { n: number }).n;
    const tables = ['shop_settings', 'sessions', 'shop_profiles', 'order_deliveries'];
    expect(tables.map(count).every((n) => n > 0)).toBe(true);
    expect((await deliver(app.base, '/webhooks/compliance', 'shop/redact', payload)).status).toBe(200);
    expect(tables.map(count)).toEqual([0, 0, 0, 0]);
    expect((await merchant.status()).deliveries).toEqual([]);
  });
});

describe('secrets and configuration', () => {
  it('holds no key or secret where inspect or JSON.stringify can see it', async () => {
    const other = await startApp({ conversionsEndpoint: sandbox.endpoint });
    const keys = other.options.encryptionKeys as string;
    const admin = await install(other, SHOP);
    await admin.save({ pixelId: 'px_n', apiKey: CAPI_KEY });
    const settings = await other.store.settings(SHOP);
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

  it('refuses to start without encryption keys or with a malformed one, without echoing the secret', async () => {
    await expect(startWith({ encryptionKeys: undefined })).rejects.toThrow(AppConfigError);
    await expect(startWith({ encryptionKeys: '' })).rejects.toThrow(/CHATGPT_ADS_ENCRYPTION_KEYS is not set/);
    await expect(startWith({ encryptionKeys: 'k1:c2hvcnQtc2VjcmV0' })).rejects.toThrow(
      /"k1" must be base64 or base64url of at least 32 random bytes/,
    );
    await expect(startWith({ encryptionKeys: 'k1:c2hvcnQtc2VjcmV0' })).rejects.not.toThrow(
      /c2hvcnQtc2VjcmV0/,
    );
    await expect(startWith({ encryptionKeys: 'nocolon' })).rejects.toThrow(/entry 1 is not "id:secret"/);
    await expect(startWith({ encryptionKeys: `${key('k1')},${key('k1')}` })).rejects.toThrow(/listed twice/);
  });
});

function startWith(overrides: Partial<ShopifyAppOptions>) {
  return createShopifyApp({
    apiKey: 'k',
    apiSecret: SECRET,
    hostName: 'app.example.test',
    dbPath: join(mkdtempSync(join(tmpdir(), 'shopify-app-config-')), 'app.db'),
    encryptionKeys: key('k1'),
    ...overrides,
  });
}
