// The app's HTTP side: install (OAuth), settings, orders/create and the compliance webhooks.
import '@shopify/shopify-api/adapters/node';
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { type Conversions, createConversions, parseCookieHeader } from '@chatgpt-ads/core';
import { createOrdersWebhook, SqliteWebhookLog, WEBHOOK_BODY_LIMIT } from '@chatgpt-ads/shopify';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import express, { type NextFunction, type Request, type Response } from 'express';
import { html, type SafeHtml, trusted } from './html.js';
import { type EncryptionKey, KeyRing, PURPOSE_STORED_API_KEY, parseEncryptionKeys } from './keys.js';
import { AppStore, type SettingsView, type ShopSettings } from './store.js';

/**
 * Where the app writes what went wrong. Defaults to `console`. Messages never hold a key or a stack
 * sent to a browser; stacks go here only.
 *
 * @example
 * const logger: AppLogger = { info: console.info, warn: console.warn, error: console.error };
 */
export interface AppLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

/**
 * Options of {@link createShopifyApp}.
 *
 * @example
 * createShopifyApp({ apiKey, apiSecret, hostName: 'app.example.com', dbPath: './app.db', encryptionKeys: process.env.CHATGPT_ADS_ENCRYPTION_KEYS });
 */
export interface ShopifyAppOptions {
  apiKey: string;
  apiSecret: string;
  /** Public host of the app, e.g. `app.example.com` (with `:port` if not the default). */
  hostName: string;
  /** `https` (default). `http` is for local runs only: cookies then lose `Secure` and `__Host-`. */
  hostScheme?: 'https' | 'http';
  /** SQLite file for sessions, settings and the webhook log. */
  dbPath: string;
  /**
   * Keys that encrypt the Conversions API keys merchants store: `CHATGPT_ADS_ENCRYPTION_KEYS`
   * (`id:secret,id:secret`, the first encrypts, all decrypt) or the parsed list. Independent of the
   * app secret, so rotating either never locks the other out.
   */
  encryptionKeys: string | readonly EncryptionKey[] | undefined;
  /** How long a merchant stays signed in. Default 8 hours; then the app sends them through OAuth again. */
  sessionTtlMs?: number;
  /** Conversions API endpoint for every shop (the sandbox in development). Default: OpenAI's. */
  conversionsEndpoint?: string;
  logger?: AppLogger;
}

const POLICIES = ['skip-in-eea-uk-ch', 'skip', 'send'] as const;
const REDACTED = Symbol.for('nodejs.util.inspect.custom');

const STYLESHEET = `body{font:15px system-ui,sans-serif;max-width:640px;margin:40px auto;color:#1f2328}form{display:grid;gap:12px}
label{display:grid;gap:4px;font-size:13px;color:#57606a}input,select{font:inherit;padding:8px;border:1px solid #d0d7de;border-radius:8px}
button{font:inherit;padding:8px 14px;border-radius:8px;border:1px solid #1f2328;background:#1f2328;color:#fff}
.note{background:#ecfdf5;padding:10px;border-radius:8px}.problem{background:#fef2f2;padding:10px;border-radius:8px}.later{margin-top:16px}`;
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLESHEET).digest('base64')}'`;

/**
 * The page policy: no script at all, the one stylesheet by hash, forms only to the app. Shopify's
 * admin may frame the page for its own shop only.
 */
function contentSecurityPolicy(shop: string | undefined): string {
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    'img-src data:',
    "form-action 'self'",
    "base-uri 'none'",
    `frame-ancestors ${shop ? `https://${shop} https://admin.shopify.com` : "'none'"}`,
  ].join('; ');
}

/**
 * The installable app as an Express application. Throws `AppConfigError` at construction when a
 * setting is missing or malformed (the encryption keys above all).
 *
 * @example
 * const { app, close } = createShopifyApp({ apiKey, apiSecret, hostName: 'app.example.com', dbPath: './app.db', encryptionKeys: process.env.CHATGPT_ADS_ENCRYPTION_KEYS });
 * app.listen(3100);
 */
export function createShopifyApp(options: ShopifyAppOptions) {
  const logger: AppLogger = options.logger ?? {
    info: (m) => console.info(m),
    warn: (m) => console.warn(m),
    error: (m, e) => console.error(m, e ?? ''),
  };
  const scheme = options.hostScheme ?? 'https';
  const appOrigin = `${scheme}://${options.hostName}`;
  const sessionTtlMs = options.sessionTtlMs ?? 8 * 3_600_000;
  const cookieName = scheme === 'https' ? '__Host-chatgpt_ads_session' : 'chatgpt_ads_session';

  const keys = new KeyRing(
    typeof options.encryptionKeys === 'string' || options.encryptionKeys === undefined
      ? parseEncryptionKeys(options.encryptionKeys)
      : options.encryptionKeys,
    // Records written before the encryption keys existed were sealed under the app secret.
    { purpose: PURPOSE_STORED_API_KEY, legacyAppSecret: options.apiSecret },
  );
  const shopify = shopifyApi({
    apiKey: options.apiKey,
    apiSecretKey: options.apiSecret,
    scopes: ['read_orders'],
    hostName: options.hostName,
    hostScheme: scheme,
    apiVersion: ApiVersion.October25,
    isEmbeddedApp: false,
    logger: { log: () => undefined },
  });
  const store = new AppStore(options.dbPath, keys);
  const migration = store.reencrypt();
  if (migration.reencrypted) {
    logger.info(
      `chatgpt-ads: re-encrypted ${migration.reencrypted} stored API key(s) with key id "${keys.currentKeyId}"`,
    );
  }
  for (const { shop, problem } of migration.unreadable) {
    logger.error(
      `chatgpt-ads: ${shop}: ${problem}. Its orders are answered 503 (Shopify retries) until the key is added back to CHATGPT_ADS_ENCRYPTION_KEYS or the merchant enters the API key again.`,
    );
  }
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
    logger,
    // A key that cannot be decrypted throws here: the webhook answers 503 and Shopify redelivers,
    // so the order waits at Shopify while the operator restores the key rather than being dropped.
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

  const page = (res: Response, status: number, body: SafeHtml, shop?: string) => {
    res
      .status(status)
      .set({ 'Content-Security-Policy': contentSecurityPolicy(shop), 'Cache-Control': 'no-store' })
      .type('html')
      .send(String(layout(body, shop)));
  };

  type Signed = { token: string; shop: string; csrf: string };
  const signedIn = (req: Request): Signed | undefined => {
    const token = parseCookieHeader(req.get('cookie')).get(cookieName);
    const session = store.appSession(token);
    if (!token || !session || !store.offlineSession(session.shop)) return undefined;
    return { token, shop: session.shop, csrf: session.csrf };
  };
  const equal = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  /**
   * Every state-changing route: a signed-in session, a request from the app's own pages (Origin and
   * Fetch Metadata when the browser sends them) and the session's CSRF token in the form.
   */
  const guard = (req: Request, res: Response): Signed | undefined => {
    const origin = req.get('origin');
    const site = req.get('sec-fetch-site');
    if ((origin !== undefined && origin !== appOrigin) || (site !== undefined && site !== 'same-origin')) {
      logger.warn(`chatgpt-ads: refused a cross-site ${req.method} ${req.path} (origin ${origin ?? 'none'})`);
      res.status(403).type('text/plain').send('Forbidden: cross-site request');
      return undefined;
    }
    const signed = signedIn(req);
    if (!signed) {
      res.status(401).type('text/plain').send('Sign in from your Shopify admin first.');
      return undefined;
    }
    const token = typeof req.body?.csrf === 'string' ? req.body.csrf : '';
    if (!equal(token, signed.csrf)) {
      logger.warn(
        `chatgpt-ads: refused ${req.method} ${req.path} for ${signed.shop}: missing or wrong CSRF token`,
      );
      res.status(403).type('text/plain').send('Forbidden: the form has expired; reload the page');
      return undefined;
    }
    return signed;
  };
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  const setSessionCookie = (res: Response, token: string) =>
    res.cookie(cookieName, token, {
      httpOnly: true,
      secure: scheme === 'https',
      sameSite: 'lax',
      path: '/',
      maxAge: sessionTtlMs,
    });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    // Defaults for every answer; pages replace the policy with their own.
    res.set({
      'X-Content-Type-Options': 'nosniff',
      // Not no-referrer: under it Chromium sends `Origin: null` on the app's own form posts, which
      // the Origin check must refuse. same-origin still sends nothing to other sites.
      'Referrer-Policy': 'same-origin',
      'Content-Security-Policy':
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    });
    next();
  });

  app.get('/auth', async (req, res) => {
    const shop = shopify.utils.sanitizeShop(typeof req.query.shop === 'string' ? req.query.shop : '');
    if (!shop)
      return void res.status(400).type('text/plain').send('a valid ?shop=<name>.myshopify.com is required');
    await shopify.auth.begin({
      shop,
      callbackPath: '/auth/callback',
      isOnline: false,
      rawRequest: req,
      rawResponse: res,
    });
  });
  app.get('/auth/callback', async (req, res) => {
    let session: Awaited<ReturnType<typeof shopify.auth.callback>>['session'];
    try {
      ({ session } = await shopify.auth.callback({ rawRequest: req, rawResponse: res }));
    } catch (error) {
      // The reason may quote the request's parameters: it goes to the log, never into the page.
      logger.warn(
        `chatgpt-ads: installation failed: ${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message}`,
      );
      return void page(
        res,
        400,
        html`<h1>Installation failed</h1><p>Open the app again from your Shopify admin to retry.</p>`,
      );
    }
    store.saveSession(session);
    const previous = parseCookieHeader(req.get('cookie')).get(cookieName);
    if (previous) store.revokeAppSession(previous);
    const { token } = store.createAppSession(session.shop, sessionTtlMs);
    setSessionCookie(res, token);
    res.redirect(303, '/settings');
  });

  app.get('/settings', (req, res) => {
    const signed = signedIn(req);
    if (!signed) {
      // Opened from the admin after the session ended: sign in again through OAuth (Shopify answers
      // at once for an installed app). Only a well-formed shop domain is ever put into the URL.
      const shop = shopify.utils.sanitizeShop(typeof req.query.shop === 'string' ? req.query.shop : '');
      if (shop) return void res.redirect(302, `/auth?${new URLSearchParams({ shop })}`);
      return void page(
        res,
        401,
        html`<h1>ChatGPT Ads conversions</h1><p>Open the app from your Shopify admin to sign in.</p>`,
      );
    }
    page(
      res,
      200,
      settingsPage(signed.shop, store.describe(signed.shop), signed.csrf, store.takeFlash(signed.token)),
      signed.shop,
    );
  });
  app.post('/settings', form, async (req, res) => {
    const signed = guard(req, res);
    if (!signed) return;
    const { shop, token } = signed;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string).trim() : '');
    const pixelId = text('pixelId');
    let apiKey = text('apiKey');
    if (!apiKey) {
      try {
        apiKey = store.settings(shop)?.apiKey ?? '';
      } catch {
        store.setFlash(token, 'The stored API key can no longer be read: enter it again.');
        return void res.redirect(303, '/settings');
      }
    }
    const policy = POLICIES.find((p) => p === body.consentPolicy) ?? 'skip-in-eea-uk-ch';
    const country = text('shopCountry').toUpperCase();
    if (!pixelId || !apiKey) {
      store.setFlash(token, 'Pixel ID and API key are required.');
      return void res.redirect(303, '/settings');
    }
    store.saveSettings({
      shop,
      pixelId,
      apiKey,
      consentPolicy: policy,
      ...(/^[A-Z]{2}$/.test(country) ? { shopCountry: country } : {}),
    });
    await forget(shop);
    store.setFlash(token, 'Saved.');
    res.redirect(303, '/settings');
  });
  app.post('/settings/test', form, async (req, res) => {
    const signed = guard(req, res);
    if (!signed) return;
    const { shop, token } = signed;
    let settings: ShopSettings | undefined;
    try {
      settings = store.settings(shop);
    } catch {
      store.setFlash(token, 'The stored API key can no longer be read: enter it again.');
      return void res.redirect(303, '/settings');
    }
    if (!settings) {
      store.setFlash(token, 'Save a Pixel ID and API key first.');
      return void res.redirect(303, '/settings');
    }
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
    store.setFlash(
      token,
      stats.delivered === 1
        ? 'Test event accepted (validate_only: nothing was stored)'
        : `Test event failed: ${stats.halted?.message || reason || 'no answer'}`,
    );
    res.redirect(303, '/settings');
  });
  app.post('/logout', form, (req, res) => {
    const signed = guard(req, res);
    if (!signed) return;
    store.revokeAppSession(signed.token);
    res.clearCookie(cookieName, { httpOnly: true, secure: scheme === 'https', sameSite: 'lax', path: '/' });
    page(res, 200, html`<h1>Signed out</h1><p>Open the app from your Shopify admin to sign in again.</p>`);
  });

  const raw = express.raw({ type: '*/*', limit: WEBHOOK_BODY_LIMIT });
  app.post('/webhooks/orders/create', raw, async (req, res) => {
    const outcome = await webhook.handle({ rawBody: req.body, rawRequest: req, rawResponse: res });
    res.sendStatus(outcome.status);
  });
  app.post('/webhooks/compliance', raw, async (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const check = rawBody
      ? await shopify.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res })
      : { valid: false as const };
    if (!check.valid) return void res.sendStatus(401);
    // The shop to act on comes from the signed body: the X-Shopify-Shop-Domain and topic headers are
    // not covered by the signature, so a header alone never names the shop whose data is erased.
    let payload: { shop_domain?: unknown; customer?: unknown } | undefined;
    try {
      payload = JSON.parse(rawBody);
    } catch {
      payload = undefined;
    }
    const shop =
      typeof payload?.shop_domain === 'string'
        ? shopify.utils.sanitizeShop(payload.shop_domain)?.replace(/\/+$/, '')
        : undefined;
    if (!shop) {
      logger.error(
        `chatgpt-ads: compliance webhook ${check.topic} (${check.webhookId}) is signed but has no valid shop_domain; nothing done`,
      );
      return void res.sendStatus(200);
    }
    if (shop !== check.domain) {
      logger.warn(
        `chatgpt-ads: compliance webhook ${check.topic} names ${shop} in its body but ${check.domain} in its header; acting on the body`,
      );
    }
    // The app stores no customer data: events hold only hashed identifiers and leave within
    // seconds, so customers/data_request and customers/redact have nothing to return or erase.
    if (/^shop[/_]redact$/i.test(check.topic) && payload?.customer === undefined) {
      await forget(shop);
      store.purgeShop(shop);
      logger.info(`chatgpt-ads: shop/redact: erased the settings and sessions of ${shop}`);
    }
    res.sendStatus(200);
  });

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  // Express's own handler prints the stack outside production; this one never shows one.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = Number((error as { status?: unknown })?.status);
    const code = status >= 400 && status < 500 ? status : 500;
    if (code === 500) logger.error(`chatgpt-ads: ${req.method} ${req.path} failed`, error);
    else logger.warn(`chatgpt-ads: ${req.method} ${req.path}: ${code} ${(error as Error)?.message ?? ''}`);
    if (res.headersSent) return;
    res
      .status(code)
      .type('text/plain')
      .send(STATUS_CODES[code] ?? 'Error');
  });

  const summary = () => ({ kind: 'ShopifyApp', host: options.hostName, webhook: webhook.stats() });
  return {
    app,
    store,
    webhook,
    close: async () => {
      await Promise.all([...clients.values()].map((client) => client.shutdown()));
      log.close();
      store.close();
    },
    toJSON: summary,
    [REDACTED]: summary,
  };
}

function layout(body: SafeHtml, shop: string | undefined): SafeHtml {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>ChatGPT Ads${shop ? html` · ${shop}` : ''}</title><link rel="icon" href="data:,">
<style>${trusted(STYLESHEET)}</style></head><body>${body}</body></html>`;
}

function settingsPage(
  shop: string,
  settings: SettingsView | undefined,
  csrf: string,
  note: string | undefined,
): SafeHtml {
  const option = (value: string, label: string) =>
    html`<option value="${value}"${settings?.consentPolicy === value ? trusted(' selected') : ''}>${label}</option>`;
  const key = settings?.key;
  const masked = !key ? 'not set' : key.readable ? `•••• ${key.last4}` : 'cannot be read';
  return html`<h1>ChatGPT Ads conversions</h1><p>Shop: <strong>${shop}</strong></p>
${note && html`<p class="note" data-testid="note">${note}</p>`}
${key && !key.readable && html`<p class="problem" data-testid="key-problem">The stored API key cannot be decrypted (${key.problem}). Orders are answered 503 so Shopify keeps them until this is fixed: enter the key again, or ask the app's operator to restore the encryption key.</p>`}
<form method="post" action="/settings">
<input type="hidden" name="csrf" value="${csrf}">
<label>Pixel ID <input name="pixelId" required value="${settings?.pixelId ?? ''}"></label>
<label>Conversions API key (stored encrypted; current: <span data-testid="masked-key">${masked}</span>) <input name="apiKey" type="password" autocomplete="off" placeholder="leave empty to keep"></label>
<label>Orders without a consent signal <select name="consentPolicy">
${option('skip-in-eea-uk-ch', 'Skip if the shop is in the EEA, UK or Switzerland')}${option('skip', 'Always skip')}${option('send', 'Always send')}</select></label>
<label>Shop country (ISO code) <input name="shopCountry" maxlength="2" value="${settings?.shopCountry ?? ''}"></label>
<button>Save</button></form>
<form method="post" action="/settings/test" class="later"><input type="hidden" name="csrf" value="${csrf}"><button>Send test event</button></form>
<form method="post" action="/logout" class="later"><input type="hidden" name="csrf" value="${csrf}"><button>Sign out</button></form>`;
}
