// The app's HTTP side: the settings page embedded in the Shopify admin (session tokens, token
// exchange), its JSON API, orders/create and the compliance and uninstall webhooks.
import '@shopify/shopify-api/adapters/node';
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import {
  type Conversions,
  createConversions,
  type DeadLetterReason,
  type TrackResult,
} from '@chatgpt-ads/core';
import {
  createOrdersWebhook,
  type MappedOrder,
  orderEventId,
  orderToConversion,
  type ShopifyOrder,
  WEBHOOK_BODY_LIMIT,
} from '@chatgpt-ads/shopify';
import { ApiVersion, HttpResponseError, type Session, shopifyApi } from '@shopify/shopify-api';
import express, { type NextFunction, type Request, type Response } from 'express';
import { exchangeForOfflineToken, readShopCountry, SessionTokenError, verifySessionToken } from './auth.js';
import type { SafeHtml } from './html.js';
import { type EncryptionKey, KeyRing, PURPOSE_STORED_API_KEY, parseEncryptionKeys } from './keys.js';
import {
  messagePage,
  pagePolicy,
  RELOAD_SCRIPT,
  reloadPage,
  SETTINGS_SCRIPT,
  settingsPage,
} from './pages.js';
import { openSqliteBackend } from './sqlite.js';
import {
  AppStore,
  type DeliveryOutcome,
  type SettingsView,
  type ShopSettings,
  type StorageBackend,
} from './storage.js';

// What the delivery panel says for each reason an order's event was given up on.
const DEAD_LETTER_LABELS: Record<DeadLetterReason, string> = {
  stale: 'Too old to send',
  too_large: 'Too large',
  invalid: 'Refused by ChatGPT Ads',
  max_attempts: 'Not delivered after every retry',
};

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
 * await createShopifyApp({ apiKey, apiSecret, hostName: 'app.example.com', dbPath: './app.db', encryptionKeys: process.env.CHATGPT_ADS_ENCRYPTION_KEYS });
 */
export interface ShopifyAppOptions {
  /** The app's client id. */
  apiKey: string;
  /** The app's client secret: verifies session tokens and webhooks, and nothing else. */
  apiSecret: string;
  /** Public host of the app, e.g. `app.example.com` (with `:port` if not the default). */
  hostName: string;
  /** `https` (default). `http` is for local runs only. */
  hostScheme?: 'https' | 'http';
  /** SQLite file for sessions, settings, the webhook log and delivery status (one host). */
  dbPath?: string;
  /** Another storage (PostgreSQL, for several instances); replaces `dbPath`. */
  storage?: StorageBackend;
  /**
   * Keys that encrypt the Conversions API keys merchants store: `CHATGPT_ADS_ENCRYPTION_KEYS`
   * (`id:secret,id:secret`, the first encrypts, all decrypt) or the parsed list. Independent of the
   * app secret, so rotating either never locks the other out.
   */
  encryptionKeys: string | readonly EncryptionKey[] | undefined;
  /** Conversions API endpoint for every shop (the sandbox in development). Default: OpenAI's. */
  conversionsEndpoint?: string;
  logger?: AppLogger;
}

const POLICIES = ['skip-in-eea-uk-ch', 'skip', 'send'] as const;
const REDACTED = Symbol.for('nodejs.util.inspect.custom');
const SESSION_EXPIRED = 'Your Shopify session has expired: reload the app from your Shopify admin.';

/** Why an order was not sent, in the merchant's words. */
const SKIP_REASONS: Record<Extract<MappedOrder, { send: false }>['reason'], string> = {
  test_order: 'Test order: test orders are never sent',
  not_online_store: 'Not an online-store order (POS, draft order or another sales channel)',
  consent_denied: 'The buyer declined marketing cookies',
  no_consent_signal: 'No consent signal on the order, and the consent policy skips such orders',
  unreadable: 'Shopify sent an order without an id',
};

/** What an order without a consent signal becomes under a policy, asked of the order mapping itself. */
function policyEffect(policy: ShopSettings['consentPolicy'], country: string | undefined): string {
  const probe: ShopifyOrder = {
    id: 1,
    created_at: new Date(0).toISOString(),
    currency: 'USD',
    source_name: 'web',
  };
  const mapped = orderToConversion(probe, {
    shopDomain: 'probe.myshopify.com',
    withoutConsentSignal: policy,
    ...(country ? { shopCountry: country } : {}),
  });
  return mapped.send
    ? 'With this setting, orders without a consent signal are sent.'
    : 'With this setting, orders without a consent signal are skipped.';
}

function keyDetails(view: SettingsView | undefined): string {
  if (!view) return 'Not saved yet. Stored encrypted; never shown again after saving.';
  return view.key.readable
    ? `A key ending in ${view.key.last4} is saved (stored encrypted). Leave empty to keep it.`
    : 'The saved key cannot be read: enter it again.';
}

/**
 * The installable app as an Express application. Rejects with `AppConfigError` when a setting is
 * missing or malformed (the encryption keys above all).
 *
 * @example
 * const { app, close } = await createShopifyApp({ apiKey, apiSecret, hostName: 'app.example.com', dbPath: './app.db', encryptionKeys: process.env.CHATGPT_ADS_ENCRYPTION_KEYS });
 * app.listen(3100);
 */
export async function createShopifyApp(options: ShopifyAppOptions) {
  const logger: AppLogger = options.logger ?? {
    info: (m) => console.info(m),
    warn: (m) => console.warn(m),
    error: (m, e) => console.error(m, e ?? ''),
  };
  const scheme = options.hostScheme ?? 'https';
  const appOrigin = `${scheme}://${options.hostName}`;

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
    isEmbeddedApp: true,
    logger: { log: () => undefined },
  });
  const backend = options.storage ?? openSqliteBackend(options.dbPath ?? './chatgpt-ads-app.db');
  const store = await AppStore.open(backend, keys);
  const migration = await store.reencrypt();
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
  const clients = new Map<string, Conversions>();
  // Delivery status is bookkeeping: a write that fails is logged, never turned into a lost order.
  const note = (work: Promise<unknown>) =>
    void work.catch((error) =>
      logger.warn(`chatgpt-ads: delivery status not recorded: ${(error as Error)?.message}`),
    );

  // Which settings each client was made with: another instance may have saved new ones since.
  const madeWith = new Map<string, string>();
  const fingerprint = (settings: ShopSettings) =>
    createHash('sha256').update(`${settings.pixelId}\n${settings.apiKey}`).digest('hex');
  const clientFor = (settings: ShopSettings): Conversions => {
    let client = clients.get(settings.shop);
    if (client && madeWith.get(settings.shop) !== fingerprint(settings)) {
      // Saved on another instance: queued events stay in the shared outbox for the new client.
      void client.shutdown({ timeoutMs: 0 }).catch(() => undefined);
      client = undefined;
    }
    if (!client) {
      const { shop } = settings;
      client = createConversions({
        pixelId: settings.pixelId,
        apiKey: settings.apiKey,
        outbox: store.outboxFor(shop),
        ...(options.conversionsEndpoint ? { endpoint: options.conversionsEndpoint } : {}),
        hooks: {
          delivered: ({ ids }) => {
            for (const id of ids) note(store.recordDelivery(shop, { eventId: id, outcome: 'sent' }));
          },
          deadLettered: ({ id, reason, message }) =>
            note(
              store.recordDelivery(shop, {
                eventId: id,
                outcome: 'dead_lettered',
                reason: `${DEAD_LETTER_LABELS[reason]}: ${withoutValues(message)}`,
              }),
            ),
        },
      });
      clients.set(shop, client);
      madeWith.set(shop, fingerprint(settings));
    }
    return client;
  };
  const forget = async (shop: string) => {
    await clients.get(shop)?.shutdown();
    clients.delete(shop);
  };

  const webhook = createOrdersWebhook({
    shopify,
    log: store.webhookLog,
    logger,
    // A key that cannot be decrypted throws here: the webhook answers 503 and Shopify redelivers,
    // so the order waits at Shopify while the operator restores the key rather than being dropped.
    shopFor: async (domain) => {
      const settings = await store.settings(domain);
      if (!settings) return undefined;
      const country = await store.shopCountry(domain);
      return {
        conversions: clientFor(settings),
        options: {
          shopDomain: domain,
          withoutConsentSignal: settings.consentPolicy,
          ...(country ? { shopCountry: country } : {}),
        },
      };
    },
  });

  /** Records what the webhook did with an order, for the delivery status panel. */
  const recordOrder = async (
    shop: string,
    rawBody: string,
    outcome: Awaited<ReturnType<typeof webhook.handle>>,
  ) => {
    let order: { id?: unknown; name?: unknown } | undefined;
    try {
      order = JSON.parse(rawBody);
    } catch {
      return;
    }
    if (typeof order?.id !== 'number' && typeof order?.id !== 'string') return;
    const eventId = orderEventId(order.id as number);
    const name = typeof order.name === 'string' && order.name.length <= 64 ? order.name : String(order.id);
    const record = (status: DeliveryOutcome, reason?: string) =>
      store.recordDelivery(shop, { eventId, order: name, outcome: status, ...(reason ? { reason } : {}) });
    switch (outcome.outcome) {
      case 'tracked':
        return record(...trackOutcome(outcome.result));
      case 'skipped':
        return record(
          'skipped',
          outcome.mapped && !outcome.mapped.send ? SKIP_REASONS[outcome.mapped.reason] : undefined,
        );
      case 'unknown_shop':
        return record('skipped', 'The app is not set up yet: save a Pixel ID and API key');
      case 'failed':
        return record('retrying', 'The settings could not be loaded; Shopify delivers the order again');
      default:
        return;
    }
  };

  let recorded = 0;
  const recordAndPrune = async (
    shop: string,
    rawBody: string,
    outcome: Awaited<ReturnType<typeof webhook.handle>>,
  ) => {
    await recordOrder(shop, rawBody, outcome);
    if (++recorded % 100 === 0) await store.pruneDeliveries(shop);
  };

  const page = (res: Response, status: number, body: SafeHtml, shop?: string) => {
    res
      .status(status)
      .set({ 'Content-Security-Policy': pagePolicy(appOrigin, shop), 'Cache-Control': 'no-store' })
      .type('html')
      .send(String(body));
  };

  /** The shop's offline session, exchanged from the session token the first time the shop opens the app. */
  const offlineSession = async (shop: string, sessionToken: string, renew = false): Promise<Session> => {
    const stored = renew ? undefined : await store.offlineSession(shop);
    if (stored?.accessToken) return stored;
    const session = await exchangeForOfflineToken(shopify, shop, sessionToken);
    await store.saveSession(session);
    logger.info(`chatgpt-ads: ${shop}: offline access token obtained by token exchange and stored`);
    return session;
  };
  /** Reads the shop's country from the Admin API; the last known one when Shopify cannot be asked. */
  const refreshCountry = async (shop: string, sessionToken: string) => {
    try {
      let session = await offlineSession(shop, sessionToken);
      let country: string | undefined;
      try {
        country = await readShopCountry(shopify, session);
      } catch (error) {
        // A token from before a reinstall is refused: exchange a new one, once.
        if (!(error instanceof HttpResponseError) || error.response.code !== 401) throw error;
        session = await offlineSession(shop, sessionToken, true);
        country = await readShopCountry(shopify, session);
      }
      await store.saveShopCountry(shop, country);
      return { country, fresh: true };
    } catch (error) {
      logger.warn(
        `chatgpt-ads: ${shop}: could not read the shop's country from the Admin API: ${(error as Error)?.name}: ${(error as Error)?.message}`,
      );
      return { country: await store.shopCountry(shop), fresh: false };
    }
  };

  type Caller = { shop: string; token: string };
  /**
   * Every API route: a valid session token in `Authorization: Bearer`, and, when the browser says,
   * a request from the app's own pages (Origin, Fetch Metadata).
   */
  const caller = async (req: Request, res: Response): Promise<Caller | undefined> => {
    const origin = req.get('origin');
    const site = req.get('sec-fetch-site');
    if ((origin !== undefined && origin !== appOrigin) || (site !== undefined && site !== 'same-origin')) {
      logger.warn(`chatgpt-ads: refused a cross-site ${req.method} ${req.path} (origin ${origin ?? 'none'})`);
      res.status(403).json({ error: 'Refused: this request did not come from the app’s own page.' });
      return undefined;
    }
    const token = /^Bearer ([\w.-]+)$/.exec(req.get('authorization') ?? '')?.[1];
    try {
      return await verifySessionToken(shopify, token);
    } catch (error) {
      if (!(error instanceof SessionTokenError)) throw error;
      logger.warn(`chatgpt-ads: ${req.method} ${req.path}: ${error.reason}`);
      // App Bridge retries a request answered with this header once, with a fresh token.
      res.status(401).set('X-Shopify-Retry-Invalid-Session-Request', '1').json({ error: SESSION_EXPIRED });
      return undefined;
    }
  };
  const json = express.json({ limit: '16kb' });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    // Defaults for every answer; pages replace the policy with their own.
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      'Content-Security-Policy':
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    });
    next();
  });

  app.get('/assets/settings.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'no-cache').send(SETTINGS_SCRIPT);
  });
  app.get('/assets/reload.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'no-cache').send(RELOAD_SCRIPT);
  });

  /**
   * The app's home in the admin. Shopify opens it with `shop`, `host` and a session token in
   * `id_token`; without a valid token the page has App Bridge fetch one and reload (no cookie is
   * involved, so a new browser, another staff member or day 31 all land here the same way).
   */
  const home = async (req: Request, res: Response) => {
    const query = (name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string) : '');
    const shop = shopify.utils.sanitizeShop(query('shop')) ?? undefined;
    if (!shop) {
      return void page(
        res,
        400,
        messagePage('ChatGPT Ads conversions', 'Open the app from your Shopify admin, under Apps.'),
      );
    }
    let verified: Caller;
    try {
      verified = await verifySessionToken(shopify, query('id_token') || undefined, shop);
    } catch (error) {
      if (!(error instanceof SessionTokenError)) throw error;
      if (query('id_token')) logger.warn(`chatgpt-ads: app home for ${shop}: ${error.reason}`);
      // A second reload that still brings no valid token would loop: stop and say so.
      if (query('bounced') === '2') {
        return void page(
          res,
          401,
          messagePage(
            'ChatGPT Ads conversions',
            'Shopify could not confirm who you are. Open the app again from your Shopify admin.',
          ),
          shop,
        );
      }
      return void page(res, 200, reloadPage(options.apiKey), shop);
    }
    const { country, fresh } = await refreshCountry(shop, verified.token);
    const view = await store.describe(shop);
    page(
      res,
      200,
      settingsPage(options.apiKey, {
        shop,
        view,
        country,
        countryFresh: fresh,
        policyEffect: policyEffect(view?.consentPolicy ?? 'skip-in-eea-uk-ch', country),
      }),
      shop,
    );
  };
  app.get('/', home);
  app.get('/settings', home);

  app.get('/api/status', async (req, res) => {
    const who = await caller(req, res);
    if (!who) return;
    const configured = (await store.describe(who.shop)) !== undefined;
    const halted = clients.get(who.shop)?.stats().halted;
    res.set('Cache-Control', 'no-store').json({
      backlog: configured ? await store.outboxFor(who.shop).size() : 0,
      deliveries: await store.deliveries(who.shop, 20),
      ...(halted
        ? { halted: `${withoutValues(halted.message)} Check the Pixel ID and API key, then save.` }
        : {}),
    });
  });

  app.post('/api/settings', json, async (req, res) => {
    const who = await caller(req, res);
    if (!who) return;
    const { shop } = who;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string).trim() : '');
    const pixelId = text('pixelId');
    const policy = POLICIES.find((p) => p === body.consentPolicy);
    if (!pixelId) return void res.status(400).json({ error: 'Enter the Pixel ID from ChatGPT Ads Manager.' });
    if (pixelId.length > 128) return void res.status(400).json({ error: 'That Pixel ID is too long.' });
    if (!policy)
      return void res.status(400).json({ error: 'Choose what happens to orders without a consent signal.' });
    let apiKey = text('apiKey');
    if (!apiKey) {
      try {
        apiKey = (await store.settings(shop))?.apiKey ?? '';
      } catch {
        return void res
          .status(400)
          .json({ error: 'The saved API key can no longer be read: enter it again.' });
      }
      if (!apiKey) return void res.status(400).json({ error: 'Enter the Conversions API key.' });
    }
    await store.saveSettings({ shop, pixelId, apiKey, consentPolicy: policy });
    await forget(shop);
    res.json({
      message: 'New orders are sent with this Pixel ID and API key.',
      keyDetails: keyDetails(await store.describe(shop)),
      policyEffect: policyEffect(policy, await store.shopCountry(shop)),
    });
  });

  app.post('/api/test-event', async (req, res) => {
    const who = await caller(req, res);
    if (!who) return;
    let settings: ShopSettings | undefined;
    try {
      settings = await store.settings(who.shop);
    } catch {
      return void res.status(409).json({ error: 'The saved API key can no longer be read: enter it again.' });
    }
    if (!settings) return void res.status(409).json({ error: 'Save a Pixel ID and API key first.' });
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
      { consent: 'granted', sourceUrl: `https://${who.shop}/` },
    );
    const stats = await test.shutdown({ timeoutMs: 10_000 });
    if (stats.delivered === 1) {
      return void res.json({
        message: 'ChatGPT Ads accepted the Pixel ID and API key (validate_only: nothing was stored).',
      });
    }
    res
      .status(502)
      .json({ error: `ChatGPT Ads did not accept it: ${stats.halted?.message || reason || 'no answer'}` });
  });

  const raw = express.raw({ type: '*/*', limit: WEBHOOK_BODY_LIMIT });
  app.post('/webhooks/orders/create', raw, async (req, res) => {
    const outcome = await webhook.handle({ rawBody: req.body, rawRequest: req, rawResponse: res });
    res.sendStatus(outcome.status);
    if (outcome.status !== 401) {
      const shop = shopify.utils.sanitizeShop(req.get('x-shopify-shop-domain') ?? '');
      if (shop)
        note(recordAndPrune(shop, Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '', outcome));
    }
  });

  /** A signed webhook, or undefined once it has been answered 401. */
  const signed = async (req: Request, res: Response) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const check = rawBody
      ? await shopify.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res })
      : { valid: false as const };
    if (!check.valid) return void res.sendStatus(401);
    return { check, rawBody };
  };
  app.post('/webhooks/app/uninstalled', raw, async (req, res) => {
    const delivery = await signed(req, res);
    if (!delivery) return;
    // The access token stops working now; settings stay until shop/redact (48 hours later), so a
    // merchant who reinstalls finds them again.
    const shop = shopify.utils.sanitizeShop(delivery.check.domain);
    if (shop) {
      await forget(shop);
      await store.deleteSessions(shop);
      logger.info(`chatgpt-ads: ${shop} uninstalled the app: its access token was deleted`);
    }
    res.sendStatus(200);
  });
  app.post('/webhooks/compliance', raw, async (req, res) => {
    const delivery = await signed(req, res);
    if (!delivery) return;
    const { check, rawBody } = delivery;
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
    // seconds, and the delivery status names orders by number only, so customers/data_request and
    // customers/redact have nothing to return or erase.
    if (/^shop[/_]redact$/i.test(check.topic) && payload?.customer === undefined) {
      await forget(shop);
      await store.purgeShop(shop);
      logger.info(
        `chatgpt-ads: shop/redact: erased the settings, sessions, delivery status and outbox of ${shop}`,
      );
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
    /** Sends what is queued (until the deadline), then closes the storage. */
    close: async () => {
      await Promise.all([...clients.values()].map((client) => client.shutdown()));
      await store.close();
    },
    toJSON: summary,
    [REDACTED]: summary,
  };
}

/**
 * An endpoint's message as the delivery panel may show it: it names fields and problems, but may
 * quote a value (a hashed email, a click id), so long opaque tokens are replaced and the length capped.
 *
 * @example
 * withoutValues('user.em[0]: not a SHA-256 hex digest: 3c2a…'); // 'user.em[0]: not a SHA-256 hex digest: [value]'
 */
export function withoutValues(message: string): string {
  const shown = message
    .replace(/[\w+/=.%-]{24,}/g, '[value]')
    .replace(/\s+/g, ' ')
    .trim();
  return shown.length > 240 ? `${shown.slice(0, 239)}…` : shown;
}

/** The outcome of `track()` as the delivery panel shows it. */
function trackOutcome(result: TrackResult | undefined): [DeliveryOutcome, string?] {
  if (!result || result.status === 'queued') return ['queued'];
  if (result.status === 'skipped') return ['skipped', 'No consent for this order'];
  const first = result.issues[0];
  return ['refused', first ? `Not a valid event: ${first.path} (${first.code})` : 'Not a valid event'];
}
