// The app's HTTP side: install (OAuth), settings, orders/create and the compliance webhooks.
import '@shopify/shopify-api/adapters/node';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Conversions, createConversions, parseCookieHeader } from '@chatgpt-ads/core';
import { createOrdersWebhook, SqliteWebhookLog } from '@chatgpt-ads/shopify';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import express, { type Request, type Response } from 'express';
import { AppStore, type ShopSettings } from './store.js';

export interface ShopifyAppOptions {
  apiKey: string;
  apiSecret: string;
  /** Public host of the app, e.g. `app.example.com`. */
  hostName: string;
  /** SQLite file for sessions, settings and the webhook log. */
  dbPath: string;
  /** Conversions API endpoint for every shop (the sandbox in development). Default: OpenAI's. */
  conversionsEndpoint?: string;
}

const POLICIES = ['skip-in-eea-uk-ch', 'skip', 'send'] as const;

export function createShopifyApp(options: ShopifyAppOptions) {
  const shopify = shopifyApi({
    apiKey: options.apiKey,
    apiSecretKey: options.apiSecret,
    scopes: ['read_orders'],
    hostName: options.hostName,
    apiVersion: ApiVersion.October25,
    isEmbeddedApp: false,
    logger: { log: () => undefined },
  });
  const store = new AppStore(options.dbPath, options.apiSecret);
  const log = new SqliteWebhookLog({ path: options.dbPath });
  const clients = new Map<string, Conversions>();

  const clientFor = (settings: ShopSettings): Conversions => {
    let client = clients.get(settings.shop);
    if (!client) {
      client = createConversions({
        pixelId: settings.pixelId,
        apiKey: settings.apiKey,
        ...(options.conversionsEndpoint ? { endpoint: options.conversionsEndpoint } : {}),
      });
      clients.set(settings.shop, client);
    }
    return client;
  };
  const forget = async (shop: string) => {
    await clients.get(shop)?.shutdown();
    clients.delete(shop);
  };

  const webhook = createOrdersWebhook({
    shopify,
    log,
    shopFor: async (domain) => {
      const settings = store.settings(domain);
      if (!settings) return undefined;
      return {
        conversions: clientFor(settings),
        options: {
          shopDomain: domain,
          withoutConsentSignal: settings.consentPolicy,
          ...(settings.shopCountry ? { shopCountry: settings.shopCountry } : {}),
        },
      };
    },
  });

  // The settings page belongs to the shop that installed: a cookie signed with the app secret says which.
  const sign = (shop: string) =>
    `${shop}.${createHmac('sha256', options.apiSecret).update(shop).digest('base64url')}`;
  const shopOf = (req: Request): string | undefined => {
    const value = parseCookieHeader(req.get('cookie')).get('chatgpt_ads_shop');
    const shop = value?.slice(0, value.lastIndexOf('.'));
    if (!value || !shop) return undefined;
    const expected = Buffer.from(sign(shop));
    const given = Buffer.from(value);
    return expected.length === given.length && timingSafeEqual(expected, given) && store.offlineSession(shop)
      ? shop
      : undefined;
  };

  const app = express();
  app.get('/auth', async (req, res) => {
    const shop = shopify.utils.sanitizeShop(String(req.query.shop ?? ''));
    if (!shop) return void res.status(400).send('a valid ?shop=<name>.myshopify.com is required');
    await shopify.auth.begin({
      shop,
      callbackPath: '/auth/callback',
      isOnline: false,
      rawRequest: req,
      rawResponse: res,
    });
  });
  app.get('/auth/callback', async (req, res) => {
    try {
      const { session } = await shopify.auth.callback({ rawRequest: req, rawResponse: res });
      store.saveSession(session);
      res.append(
        'Set-Cookie',
        `chatgpt_ads_shop=${sign(session.shop)}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=2592000`,
      );
      res.redirect(303, '/settings');
    } catch (error) {
      res.status(400).send(`Installation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  app.get('/settings', (req, res) => {
    const shop = shopOf(req);
    if (!shop) return void res.status(401).send('Open the app from your Shopify admin to sign in.');
    res.type('html').send(settingsPage(shop, store.settings(shop), String(req.query.note ?? '')));
  });
  app.post('/settings', express.urlencoded({ extended: false }), async (req, res) => {
    const shop = shopOf(req);
    if (!shop) return void res.sendStatus(401);
    const current = store.settings(shop);
    const pixelId = String(req.body.pixelId ?? '').trim();
    const apiKey = String(req.body.apiKey ?? '').trim() || current?.apiKey || '';
    const policy = POLICIES.find((p) => p === req.body.consentPolicy) ?? 'skip-in-eea-uk-ch';
    const country = String(req.body.shopCountry ?? '')
      .trim()
      .toUpperCase();
    if (!pixelId || !apiKey)
      return void res.redirect(303, '/settings?note=Pixel+id+and+API+key+are+required');
    store.saveSettings({
      shop,
      pixelId,
      apiKey,
      consentPolicy: policy,
      ...(/^[A-Z]{2}$/.test(country) ? { shopCountry: country } : {}),
    });
    await forget(shop);
    res.redirect(303, '/settings?note=Saved');
  });
  app.post('/settings/test', async (req, res) => {
    const shop = shopOf(req);
    const settings = shop ? store.settings(shop) : undefined;
    if (!shop || !settings) return void res.sendStatus(401);
    let reason = '';
    const test = createConversions({
      pixelId: settings.pixelId,
      apiKey: settings.apiKey,
      validateOnly: true,
      ...(options.conversionsEndpoint ? { endpoint: options.conversionsEndpoint } : {}),
      logger: { warn() {}, error() {} },
      hooks: { deadLettered: (d) => (reason = d.message), retried: (r) => (reason = r.message) },
    });
    await test.track(
      { type: 'page_viewed', id: `test_${Date.now()}` },
      { consent: 'granted', sourceUrl: `https://${shop}/` },
    );
    const stats = await test.shutdown({ timeoutMs: 10_000 });
    const note =
      stats.delivered === 1
        ? 'Test event accepted (validate_only: nothing was stored)'
        : `Test event failed: ${stats.halted?.message ?? reason ?? 'no answer'}`;
    res.redirect(303, `/settings?note=${encodeURIComponent(note)}`);
  });

  app.post('/webhooks/orders/create', express.raw({ type: '*/*' }), async (req, res) => {
    const outcome = await webhook.handle({
      rawBody: req.body.toString('utf8'),
      rawRequest: req,
      rawResponse: res,
    });
    res.sendStatus(outcome.status);
  });
  app.post('/webhooks/compliance', express.raw({ type: '*/*' }), async (req, res) => {
    const check = await shopify.webhooks.validate({
      rawBody: req.body.toString('utf8'),
      rawRequest: req,
      rawResponse: res,
    });
    if (!check.valid) return void res.sendStatus(401);
    // The app stores no customer data: events hold only hashed identifiers and leave within
    // seconds, so customers/data_request and customers/redact have nothing to return or erase.
    if (/shop[/_]redact/i.test(check.topic)) {
      await forget(check.domain);
      store.purgeShop(check.domain);
    }
    res.sendStatus(200);
  });

  return {
    app,
    store,
    close: async () => {
      await Promise.all([...clients.values()].map((client) => client.shutdown()));
      log.close();
      store.close();
    },
  };
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function settingsPage(shop: string, settings: ShopSettings | undefined, note: string): string {
  const masked = settings ? `•••• ${escapeHtml(settings.apiKey.slice(-4))}` : 'not set';
  const option = (value: string, label: string) =>
    `<option value="${value}"${settings?.consentPolicy === value ? ' selected' : ''}>${label}</option>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ChatGPT Ads · ${escapeHtml(shop)}</title>
<link rel="icon" href="data:,">
<style>body{font:15px system-ui,sans-serif;max-width:640px;margin:40px auto;color:#1f2328}form{display:grid;gap:12px}
label{display:grid;gap:4px;font-size:13px;color:#57606a}input,select{font:inherit;padding:8px;border:1px solid #d0d7de;border-radius:8px}
button{font:inherit;padding:8px 14px;border-radius:8px;border:1px solid #1f2328;background:#1f2328;color:#fff}.note{background:#ecfdf5;padding:10px;border-radius:8px}</style>
</head><body><h1>ChatGPT Ads conversions</h1><p>Shop: <strong>${escapeHtml(shop)}</strong></p>
${note ? `<p class="note" data-testid="note">${escapeHtml(note)}</p>` : ''}
<form method="post" action="/settings">
<label>Pixel ID <input name="pixelId" required value="${escapeHtml(settings?.pixelId ?? '')}"></label>
<label>Conversions API key (stored encrypted; current: <span data-testid="masked-key">${masked}</span>) <input name="apiKey" type="password" autocomplete="off" placeholder="leave empty to keep"></label>
<label>Orders without a consent signal <select name="consentPolicy">
${option('skip-in-eea-uk-ch', 'Skip if the shop is in the EEA, UK or Switzerland')}${option('skip', 'Always skip')}${option('send', 'Always send')}</select></label>
<label>Shop country (ISO code) <input name="shopCountry" maxlength="2" value="${escapeHtml(settings?.shopCountry ?? '')}"></label>
<button>Save</button></form>
<form method="post" action="/settings/test" style="margin-top:16px"><button>Send test event</button></form>
</body></html>`;
}
