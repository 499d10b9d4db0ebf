// The app as an attacker probes it: another merchant with an installed shop of their own, a crafted
// link opened in the admin, a cross-site request, a forged or stolen session token, and an operator
// who rotates secrets.
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, html, trusted } from '../src/html.js';
import {
  Admin,
  deliver,
  install,
  key,
  orderBody,
  SECRET,
  type StartedApp,
  startApp,
  XSS_PAYLOADS,
} from './helpers.js';

const VICTIM = 'northwind.myshopify.com';
const ATTACKER = 'contoso.myshopify.com';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});
afterAll(() => sandbox?.close());

const db = (app: StartedApp) => new Database(app.options.dbPath as string);
const countSettings = async (app: StartedApp, shop: string) =>
  (db(app).prepare('SELECT COUNT(*) AS n FROM shop_settings WHERE shop = ?').get(shop) as { n: number }).n;

async function withShops() {
  const app = await startApp({ conversionsEndpoint: sandbox.endpoint });
  const victim = await install(app, VICTIM);
  expect((await victim.save({ pixelId: 'px_victim', apiKey: 'sk_live_victim_key_1234' })).status).toBe(200);
  const attacker = await install(app, ATTACKER);
  expect((await attacker.save({ pixelId: 'px_attacker', apiKey: 'sk_live_attacker_5678' })).status).toBe(200);
  return { app, victim, attacker };
}

describe('cross-shop compliance webhook', () => {
  it('a signature taken from the attacker’s own session token does not erase another shop', async () => {
    const { app, attacker } = await withShops();
    // Shopify signs session tokens with the same app secret as webhooks: the token's signature is a
    // genuine MAC over "header.payload". Delivered as a webhook body, it verifies, but that text is
    // never JSON, so it names no shop and nothing is erased; every other pairing fails the HMAC.
    const token = attacker.token();
    const [header = '', payload = '', signature = ''] = token.split('.');
    const hmacs = [signature, Buffer.from(signature, 'base64url').toString('base64'), token];
    const bodies = [
      `${header}.${payload}`,
      token,
      VICTIM,
      JSON.stringify({ shop_domain: VICTIM, shop_id: 1 }),
      Buffer.from(payload, 'base64url').toString(),
    ];
    for (const hmac of hmacs) {
      for (const body of bodies) {
        const response = await deliver(app.base, '/webhooks/compliance', 'shop/redact', body, {
          hmac,
          shop: VICTIM,
        });
        expect([200, 401]).toContain(response.status);
      }
    }
    expect(await countSettings(app, VICTIM)).toBe(1);
    expect(await countSettings(app, ATTACKER)).toBe(1);
    await app.close();
  });

  it('acts on the shop named in the signed body, never the header', async () => {
    const { app, victim } = await withShops();
    // A genuine shop/redact for the attacker's shop, replayed with the victim's domain in the header.
    const body = JSON.stringify({ shop_id: 2, shop_domain: ATTACKER });
    expect(
      (await deliver(app.base, '/webhooks/compliance', 'shop/redact', body, { shop: VICTIM })).status,
    ).toBe(200);
    expect(await countSettings(app, VICTIM)).toBe(1);
    expect(await countSettings(app, ATTACKER)).toBe(0);
    expect((await victim.call('GET', '/api/status')).status).toBe(200);
    expect(app.logged.join('\n')).toContain(`names ${ATTACKER} in its body but ${VICTIM} in its header`);
    // A signed body without a shop_domain erases nothing.
    const anonymous = JSON.stringify({ shop_id: 1 });
    expect(
      (await deliver(app.base, '/webhooks/compliance', 'shop/redact', anonymous, { shop: VICTIM })).status,
    ).toBe(200);
    expect(await countSettings(app, VICTIM)).toBe(1);
    await app.close();
  });
});

describe('reflected and stored XSS', () => {
  it('escapes by default in the html template', () => {
    const payload = `<a href="x" onclick='y'>&\`</a>`;
    expect(String(html`<p title="${payload}">${payload}</p>`)).toBe(
      `<p title="${escapeHtml(payload)}">${escapeHtml(payload)}</p>`,
    );
    expect(escapeHtml(payload)).not.toMatch(/[<>"'`]/);
    expect(String(html`<div>${html`<b>${'<i>'}</b>`}${['<', trusted('<hr>')]}</div>`)).toBe(
      '<div><b>&lt;i&gt;</b>&lt;<hr></div>',
    );
    expect(String(html`${undefined}${null}${false}${0}`)).toBe('0');
  });

  it('echoes no parameter raw on any page; scripts come only from Shopify’s CDN and the app’s /assets/', async () => {
    const { app, victim } = await withShops();
    for (const payload of XSS_PAYLOADS) {
      const p = encodeURIComponent(payload);
      const responses = [
        await fetch(`${app.base}/?shop=${p}&host=${p}&id_token=${p}`),
        await fetch(`${app.base}/?shop=${VICTIM}&host=${p}&id_token=${p}&embedded=${p}`),
        await fetch(`${app.base}/?shop=${VICTIM}&host=${p}&id_token=${p}&bounced=2`),
        await victim.open({ host: payload, locale: payload, session: payload }),
        await fetch(`${app.base}/settings?shop=${p}&note=${p}`),
        await fetch(`${app.base}/api/status`, { headers: { authorization: `Bearer ${payload}` } }),
        await fetch(`${app.base}/${p}`),
      ];
      for (const response of responses) {
        const text = await response.text();
        expect(response.status).toBeLessThan(500);
        expect(text).not.toContain(payload);
        expect(text).not.toMatch(/onerror=|onload=|<iframe|<svg|<script>/i);
        if (/html/.test(response.headers.get('content-type') ?? '')) {
          const csp = response.headers.get('content-security-policy') ?? '';
          expect(csp).toContain("default-src 'none'");
          const scripts = /script-src ([^;]*)/.exec(csp)?.[1] ?? '';
          expect(
            scripts
              .split(' ')
              .every((source) =>
                [
                  'https://cdn.shopify.com/shopifycloud/app-bridge.js',
                  'https://cdn.shopify.com/shopifycloud/polaris.js',
                  `${app.options.hostScheme ?? 'https'}://${app.options.hostName}/assets/`,
                ].includes(source),
              ),
          ).toBe(true);
          expect(csp).not.toMatch(/unsafe-eval/);
          expect(scripts).not.toMatch(/unsafe-inline/);
          // Every script tag on the page is one of those files: nothing inline.
          expect(
            text
              .match(/<script[^>]*>/g)
              ?.every((tag) =>
                /src="(https:\/\/cdn\.shopify\.com\/shopifycloud\/(app-bridge|polaris)\.js|\/assets\/\w+\.js)"/.test(
                  tag,
                ),
              ) ?? true,
          ).toBe(true);
        }
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
    }
    // Stored: a pixel id full of markup is shown as text.
    await victim.save({ pixelId: XSS_PAYLOADS[1]!, apiKey: 'sk_live_victim_key_1234' });
    const page = await victim.open();
    expect(await page.text()).toContain(escapeHtml(XSS_PAYLOADS[1]!));
    expect(page.headers.get('content-security-policy')).toContain(
      `frame-ancestors https://${VICTIM} https://admin.shopify.com`,
    );
    await app.close();
  });
});

describe('session tokens and cross-site requests', () => {
  it('acts only on the shop a valid session token names, whatever the request says', async () => {
    const { app, attacker } = await withShops();
    // The attacker's own, genuine token, with the victim's shop wherever a request could carry it.
    const response = await attacker.call(
      'POST',
      `/api/settings?shop=${VICTIM}`,
      {
        pixelId: 'px_evil',
        apiKey: 'sk_live_evil_0000',
        consentPolicy: 'send',
        shop: VICTIM,
      },
      { 'x-shopify-shop-domain': VICTIM },
    );
    expect(response.status).toBe(200);
    expect((await app.store.settings(VICTIM))?.pixelId).toBe('px_victim');
    expect((await app.store.settings(ATTACKER))?.pixelId).toBe('px_evil');
    // The victim's page cannot be opened with the attacker's token.
    const victimPage = await fetch(`${app.base}/?shop=${VICTIM}&id_token=${attacker.token()}&bounced=2`);
    expect(victimPage.status).toBe(401);
    await app.close();
  });

  it('refuses state changes without a valid token or from another origin; sets no cookie', async () => {
    const { app, victim } = await withShops();
    const change = { pixelId: 'px_evil', apiKey: 'sk_live_evil_0000', consentPolicy: 'send' };
    const forged = new Admin(app, VICTIM);
    const attempts = [
      fetch(`${app.base}/api/settings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(change),
      }),
      fetch(`${app.base}/api/settings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: 'chatgpt_ads_session=anything' },
        body: JSON.stringify(change),
      }),
      fetch(`${app.base}/api/settings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${forged.token({}, 'guessed-secret')}`,
        },
        body: JSON.stringify(change),
      }),
      victim.call('POST', '/api/test-event', undefined, {
        authorization: `Bearer ${forged.token({ exp: 1, nbf: 0, iat: 0 })}`,
      }),
    ];
    for (const response of await Promise.all(attempts)) expect(response.status).toBe(401);
    const crossSite = [
      victim.call('POST', '/api/settings', change, { origin: 'https://evil.example' }),
      victim.call('POST', '/api/settings', change, { origin: 'null' }),
      victim.call('POST', '/api/settings', change, { 'sec-fetch-site': 'cross-site' }),
    ];
    for (const response of await Promise.all(crossSite)) expect(response.status).toBe(403);
    expect((await app.store.settings(VICTIM))?.pixelId).toBe('px_victim');
    const accepted = await victim.call(
      'POST',
      '/api/settings',
      { pixelId: 'px_victim_2', apiKey: '', consentPolicy: 'send' },
      { origin: 'https://app.example.test', 'sec-fetch-site': 'same-origin' },
    );
    expect(accepted.status).toBe(200);
    expect(accepted.headers.getSetCookie()).toEqual([]);
    expect((await app.store.settings(VICTIM))?.pixelId).toBe('px_victim_2');
    await app.close();
  });
});

describe('encryption keys and secret rotation', () => {
  const shopKey = 'sk_live_northwind_rotate_77aa';

  it('keeps working through an app-secret rotation and an encryption-key rotation; old records re-encrypt', async () => {
    const k1 = key('k1');
    const k2 = key('k2');
    let app = await startApp({ conversionsEndpoint: sandbox.endpoint, encryptionKeys: k1 });
    const dbPath = app.options.dbPath as string;
    await (await install(app, VICTIM)).save({ pixelId: 'px_rotate', apiKey: shopKey });
    await app.close();

    // The Shopify app secret is rotated: stored keys do not depend on it.
    const newSecret = 'shpss_rotated_app_secret';
    app = await startApp({
      conversionsEndpoint: sandbox.endpoint,
      encryptionKeys: k1,
      apiSecret: newSecret,
      dbPath,
    });
    expect((await app.store.settings(VICTIM))?.apiKey).toBe(shopKey);
    const signedWithNew = { secret: newSecret };
    expect(
      (await deliver(app.base, '/webhooks/orders/create', 'orders/create', orderBody(7001), signedWithNew))
        .status,
    ).toBe(200);
    await app.close();

    // A new encryption key goes first; the old one stays to decrypt, and start-up re-encrypts.
    app = await startApp({
      conversionsEndpoint: sandbox.endpoint,
      encryptionKeys: `${k2},${k1}`,
      apiSecret: newSecret,
      dbPath,
    });
    expect(app.logged.join('\n')).toContain('re-encrypted 1 stored API key(s) with key id "k2"');
    await app.close();
    const sealed = new Database(dbPath).prepare('SELECT api_key_encrypted AS v FROM shop_settings').get() as {
      v: string;
    };
    expect(sealed.v).toMatch(/^v1\.k2\./);

    // So the old key can go.
    app = await startApp({
      conversionsEndpoint: sandbox.endpoint,
      encryptionKeys: k2,
      apiSecret: newSecret,
      dbPath,
    });
    expect((await app.store.settings(VICTIM))?.apiKey).toBe(shopKey);
    await app.close();
  });

  it('re-encrypts records written before encryption keys existed (sealed under the app secret)', async () => {
    const { createCipheriv, hkdfSync, randomBytes } = await import('node:crypto');
    const app0 = await startApp({ conversionsEndpoint: sandbox.endpoint });
    const dbPath = app0.options.dbPath as string;
    await app0.close();
    const legacyKey = Buffer.from(
      hkdfSync('sha256', SECRET, 'chatgpt-ads-shopify-app', 'conversions-api-key', 32),
    );
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', legacyKey, iv);
    const data = Buffer.concat([cipher.update(shopKey, 'utf8'), cipher.final()]);
    const legacy = [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
    new Database(dbPath)
      .prepare(
        "INSERT INTO shop_settings (shop, pixel_id, api_key_encrypted, consent_policy, updated_at) VALUES (?, 'px_old', ?, 'send', 0)",
      )
      .run(VICTIM, legacy);
    const app = await startApp({ conversionsEndpoint: sandbox.endpoint, dbPath, encryptionKeys: key('k9') });
    expect((await app.store.settings(VICTIM))?.apiKey).toBe(shopKey);
    const sealed = new Database(dbPath).prepare('SELECT api_key_encrypted AS v FROM shop_settings').get() as {
      v: string;
    };
    expect(sealed.v).toMatch(/^v1\.k9\./);
    await app.close();
  });

  it('a lost encryption key answers orders 503 (Shopify keeps them), never 500; the merchant can re-enter the key', async () => {
    let app = await startApp({ conversionsEndpoint: sandbox.endpoint, encryptionKeys: key('k1') });
    const dbPath = app.options.dbPath as string;
    await (await install(app, VICTIM)).save({ pixelId: 'px_lost', apiKey: shopKey });
    await app.close();

    app = await startApp({ conversionsEndpoint: sandbox.endpoint, encryptionKeys: key('k3'), dbPath });
    expect(app.logged.join('\n')).toMatch(
      /key id "k1", which is not in CHATGPT_ADS_ENCRYPTION_KEYS \(configured: k3\)/,
    );
    sandbox.reset();
    const body = orderBody(7002);
    const first = await deliver(app.base, '/webhooks/orders/create', 'orders/create', body, {
      eventId: 'evt_lost',
    });
    expect(first.status).toBe(503);
    expect(await first.text()).not.toMatch(/\bat \S|Error/);
    expect(app.logged.join('\n')).toMatch(/evt_lost.*503/);

    const merchant = await install(app, VICTIM);
    const page = await merchant.open();
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('cannot be read');
    expect(text).toContain('tone="critical"');
    expect(text).not.toMatch(/\bat \S|node_modules/);
    // Saving without re-entering the key cannot keep a key that cannot be read: it says so, as an error.
    const kept = await merchant.save({ pixelId: 'px_lost', apiKey: '' });
    expect(kept.status).toBe(400);
    expect((await kept.json()).error).toContain('enter it again');
    const test = await merchant.call('POST', '/api/test-event');
    expect(test.status).toBe(409);
    expect((await test.json()).error).toContain('enter it again');

    expect((await merchant.save({ pixelId: 'px_lost', apiKey: shopKey })).status).toBe(200);
    // Shopify's redelivery of the same event now goes through: the order was not lost.
    const again = await deliver(app.base, '/webhooks/orders/create', 'orders/create', body, {
      eventId: 'evt_lost',
    });
    expect(again.status).toBe(200);
    await expect
      .poll(() => sandbox.events().map((e) => e.event.id), { timeout: 5_000 })
      .toEqual(['shopify_order_7002']);
    await app.close();
  });

  it('a sealed key copied into another shop’s row does not open', async () => {
    const { app } = await withShops();
    const database = db(app);
    const { v } = database
      .prepare('SELECT api_key_encrypted AS v FROM shop_settings WHERE shop = ?')
      .get(VICTIM) as { v: string };
    database.prepare('UPDATE shop_settings SET api_key_encrypted = ? WHERE shop = ?').run(v, ATTACKER);
    await expect(app.store.settings(ATTACKER)).rejects.toThrow(/cannot be decrypted/);
    await app.close();
  });
});
