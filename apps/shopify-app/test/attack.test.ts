// The app as an attacker probes it: another merchant with an installed shop of their own, a crafted
// link opened by a signed-in merchant, a cross-site form, a stolen or stale cookie, and an operator
// who rotates secrets. Each test fails on the app as it was before these holes were closed.
import { createHmac } from 'node:crypto';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, html, trusted } from '../src/html.js';
import {
  Browser,
  deliver,
  install,
  key,
  orderBody,
  SECRET,
  type StartedApp,
  signedQuery,
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

const count = (app: StartedApp, sql: string, ...args: string[]) =>
  (new Database(app.options.dbPath).prepare(sql).get(...args) as { n: number }).n;

async function withShops() {
  const app = await startApp({ conversionsEndpoint: sandbox.endpoint });
  const victim = (await install(app, VICTIM)).browser;
  expect(
    (await victim.post('/settings', { pixelId: 'px_victim', apiKey: 'sk_live_victim_key_1234' })).status,
  ).toBe(303);
  const attacker = (await install(app, ATTACKER)).browser;
  expect(
    (await attacker.post('/settings', { pixelId: 'px_attacker', apiKey: 'sk_live_attacker_5678' })).status,
  ).toBe(303);
  return { app, victim, attacker };
}

describe('cross-shop compliance webhook', () => {
  it('a signature taken from the attacker’s own cookie does not erase another shop', async () => {
    const { app, attacker } = await withShops();
    const cookie = attacker.jar.get('__Host-chatgpt_ads_session') ?? '';
    expect(cookie).not.toBe('');
    // The old cookie was `shop.HMAC(appSecret, shop)`: the same MAC Shopify signs webhooks with, so
    // its tail signed a body. Try every cookie the attacker's browser holds (shopify-api's signed
    // OAuth cookies too), each value as a body and each signature-looking part as the HMAC.
    const values = [...attacker.jar.values()];
    const signatures = values.flatMap((value) => {
      const tail = value.slice(value.lastIndexOf('.') + 1);
      return [value, tail, Buffer.from(tail, 'base64url').toString('base64')];
    });
    const bodies = [ATTACKER, VICTIM, ...values, JSON.stringify({ shop_domain: VICTIM, shop_id: 1 })];
    for (const hmac of signatures) {
      for (const body of bodies) {
        const response = await deliver(app.base, '/webhooks/compliance', 'shop/redact', body, {
          hmac,
          shop: VICTIM,
        });
        expect(response.status).toBe(401);
      }
    }
    // Nothing the attacker holds is a MAC under the webhook key.
    for (const shop of [ATTACKER, VICTIM]) {
      const mac = createHmac('sha256', SECRET).update(shop).digest();
      expect(cookie).not.toContain(mac.toString('base64url'));
      expect(cookie).not.toContain(mac.toString('base64'));
    }
    expect(cookie).not.toContain(ATTACKER);
    expect(count(app, 'SELECT COUNT(*) AS n FROM shop_settings WHERE shop = ?', VICTIM)).toBe(1);
    await app.close();
  });

  it('acts on the shop named in the signed body, never the header', async () => {
    const { app, victim } = await withShops();
    // A genuine shop/redact for the attacker's shop, replayed with the victim's domain in the header.
    const body = JSON.stringify({ shop_id: 2, shop_domain: ATTACKER });
    expect(
      (await deliver(app.base, '/webhooks/compliance', 'shop/redact', body, { shop: VICTIM })).status,
    ).toBe(200);
    expect(count(app, 'SELECT COUNT(*) AS n FROM shop_settings WHERE shop = ?', VICTIM)).toBe(1);
    expect(count(app, 'SELECT COUNT(*) AS n FROM shop_settings WHERE shop = ?', ATTACKER)).toBe(0);
    expect((await victim.fetch('/settings')).status).toBe(200);
    expect(app.logged.join('\n')).toContain(`names ${ATTACKER} in its body but ${VICTIM} in its header`);
    // A signed body without a shop_domain erases nothing.
    const anonymous = JSON.stringify({ shop_id: 1 });
    expect(
      (await deliver(app.base, '/webhooks/compliance', 'shop/redact', anonymous, { shop: VICTIM })).status,
    ).toBe(200);
    expect(count(app, 'SELECT COUNT(*) AS n FROM shop_settings WHERE shop = ?', VICTIM)).toBe(1);
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

  it('echoes no parameter raw on any page, and every page carries a script-free CSP', async () => {
    const { app, victim } = await withShops();
    const stranger = new Browser(app.base);
    for (const payload of XSS_PAYLOADS) {
      const p = encodeURIComponent(payload);
      const callbackFields = { code: 'auth-code-1', host: payload, shop: payload, state: payload };
      const responses = [
        await stranger.fetch(`/auth/callback?${signedQuery(SECRET, callbackFields)}`),
        await stranger.fetch(
          `/auth/callback?shop=${p}&code=${p}&state=${p}&hmac=${p}&timestamp=${p}&host=${p}`,
        ),
        await victim.fetch(`/auth/callback?shop=${p}&hmac=${p}`),
        await stranger.fetch(`/auth?shop=${p}`),
        await stranger.fetch(`/settings?shop=${p}&note=${p}`),
        await victim.fetch(`/settings?note=${p}&shop=${p}`),
        await stranger.fetch(`/${p}`),
      ];
      for (const response of responses) {
        const text = await response.text();
        expect(response.status).toBeLessThan(500);
        expect(text).not.toContain(payload);
        expect(text).not.toMatch(/<script|onerror=|onload=|<iframe|<svg/i);
        if (/html/.test(response.headers.get('content-type') ?? '')) {
          const csp = response.headers.get('content-security-policy') ?? '';
          expect(csp).toContain("default-src 'none'");
          expect(csp).not.toMatch(/script-src|unsafe-inline/);
        }
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
    }
    // Stored: a pixel id full of markup is shown as text.
    await victim.post('/settings', { pixelId: XSS_PAYLOADS[1]!, apiKey: 'sk_live_victim_key_1234' });
    const page = await victim.fetch('/settings');
    expect(await page.text()).toContain(escapeHtml(XSS_PAYLOADS[1]!));
    expect(page.headers.get('content-security-policy')).toContain(
      `frame-ancestors https://${VICTIM} https://admin.shopify.com`,
    );
    await app.close();
  });
});

describe('sessions and CSRF', () => {
  it('gives every sign-in its own random cookie with the strict attributes, and ends it server-side', async () => {
    const app = await startApp({ conversionsEndpoint: sandbox.endpoint });
    const first = await install(app, VICTIM);
    const second = await install(app, VICTIM);
    const cookies = first.callback.headers
      .getSetCookie()
      .filter((c) => c.startsWith('__Host-chatgpt_ads_session='));
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/; Path=\/;.*HttpOnly/);
    expect(cookies[0]).toMatch(/; Secure/);
    expect(cookies[0]).toMatch(/; SameSite=Lax/);
    expect(cookies[0]).not.toMatch(/Domain=/);
    const [a, b] = [first.browser, second.browser].map((browser) =>
      browser.jar.get('__Host-chatgpt_ads_session'),
    );
    expect(a).not.toEqual(b);
    expect(a).not.toContain(VICTIM);

    // Revoked by signing out: the cookie, replayed, is worthless.
    const stolen = new Browser(app.base);
    stolen.jar.set('__Host-chatgpt_ads_session', a!);
    expect((await stolen.fetch('/settings')).status).toBe(200);
    expect((await first.browser.post('/logout')).status).toBe(200);
    expect((await stolen.fetch('/settings')).status).toBe(401);

    // Expired server-side, whatever the browser keeps: sent back through OAuth when the admin opens it.
    new Database(app.options.dbPath).prepare('UPDATE app_sessions SET expires_at = 1').run();
    expect((await second.browser.fetch('/settings')).status).toBe(401);
    const reopened = await second.browser.fetch(`/settings?shop=${VICTIM}`);
    expect(reopened.status).toBe(302);
    expect(reopened.headers.get('location')).toBe(`/auth?shop=${VICTIM}`);
    await app.close();
  });

  it('refuses state changes without the session’s CSRF token or from another origin', async () => {
    const { app, victim, attacker } = await withShops();
    const attackerToken = await attacker.csrf();
    const change = { pixelId: 'px_evil', apiKey: 'sk_live_evil_0000' };
    const attempts = [
      victim.fetch('/settings', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(change).toString(),
      }),
      victim.post('/settings', { ...change, csrf: 'guessed' }),
      victim.post('/settings', { ...change, csrf: attackerToken }),
      victim.post('/settings', change, { origin: 'https://evil.example' }),
      victim.post('/settings', change, { origin: 'null' }),
      victim.post('/settings', change, { 'sec-fetch-site': 'cross-site' }),
      victim.post('/settings/test', { csrf: attackerToken }),
      victim.post('/logout', { csrf: 'guessed' }),
    ];
    for (const response of await Promise.all(attempts)) expect(response.status).toBe(403);
    expect(app.store.settings(VICTIM)?.pixelId).toBe('px_victim');
    const accepted = await victim.post(
      '/settings',
      { pixelId: 'px_victim_2', apiKey: '' },
      {
        origin: 'https://app.example.test',
        'sec-fetch-site': 'same-origin',
      },
    );
    expect(accepted.status).toBe(303);
    expect(app.store.settings(VICTIM)?.pixelId).toBe('px_victim_2');
    await app.close();
  });
});

describe('encryption keys and secret rotation', () => {
  const shopKey = 'sk_live_northwind_rotate_77aa';

  it('keeps working through an app-secret rotation and an encryption-key rotation; old records re-encrypt', async () => {
    const k1 = key('k1');
    const k2 = key('k2');
    let app = await startApp({ conversionsEndpoint: sandbox.endpoint, encryptionKeys: k1 });
    const { dbPath } = app.options;
    await (await install(app, VICTIM)).browser.post('/settings', { pixelId: 'px_rotate', apiKey: shopKey });
    await app.close();

    // The Shopify app secret is rotated: stored keys do not depend on it.
    const newSecret = 'shpss_rotated_app_secret';
    app = await startApp({
      conversionsEndpoint: sandbox.endpoint,
      encryptionKeys: k1,
      apiSecret: newSecret,
      dbPath,
    });
    expect(app.store.settings(VICTIM)?.apiKey).toBe(shopKey);
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
    expect(app.store.settings(VICTIM)?.apiKey).toBe(shopKey);
    await app.close();
  });

  it('re-encrypts records written before encryption keys existed (sealed under the app secret)', async () => {
    const { createCipheriv, hkdfSync, randomBytes } = await import('node:crypto');
    const app0 = await startApp({ conversionsEndpoint: sandbox.endpoint });
    const { dbPath } = app0.options;
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
    expect(app.store.settings(VICTIM)?.apiKey).toBe(shopKey);
    const sealed = new Database(dbPath).prepare('SELECT api_key_encrypted AS v FROM shop_settings').get() as {
      v: string;
    };
    expect(sealed.v).toMatch(/^v1\.k9\./);
    await app.close();
  });

  it('a lost encryption key answers orders 503 (Shopify keeps them), never 500; the merchant can re-enter the key', async () => {
    let app = await startApp({ conversionsEndpoint: sandbox.endpoint, encryptionKeys: key('k1') });
    const { dbPath } = app.options;
    await (await install(app, VICTIM)).browser.post('/settings', { pixelId: 'px_lost', apiKey: shopKey });
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

    const merchant = (await install(app, VICTIM)).browser;
    const page = await merchant.fetch('/settings');
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('cannot be read');
    expect(text).not.toMatch(/\bat \S|node_modules/);
    // Saving without re-entering the key cannot keep a key that cannot be read: it says so.
    expect((await merchant.post('/settings', { pixelId: 'px_lost', apiKey: '' })).status).toBe(303);
    expect(await (await merchant.fetch('/settings')).text()).toContain('enter it again');
    expect((await merchant.post('/settings/test')).status).toBe(303);

    expect((await merchant.post('/settings', { pixelId: 'px_lost', apiKey: shopKey })).status).toBe(303);
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
    const db = new Database(app.options.dbPath);
    const { v } = db
      .prepare('SELECT api_key_encrypted AS v FROM shop_settings WHERE shop = ?')
      .get(VICTIM) as { v: string };
    db.prepare('UPDATE shop_settings SET api_key_encrypted = ? WHERE shop = ?').run(v, ATTACKER);
    expect(() => app.store.settings(ATTACKER)).toThrow(/cannot be decrypted/);
    await app.close();
  });
});
