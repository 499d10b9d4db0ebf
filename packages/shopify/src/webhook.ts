import type { Conversions, TrackResult } from '@chatgpt-ads/core';
import Database from 'libsql';
import { type MappedOrder, type OrderOptions, orderToConversion, type ShopifyOrder } from './order.js';

/**
 * Remembers which webhook deliveries were handled, so Shopify's redeliveries send nothing twice.
 *
 * @example
 * const log: WebhookLog = { claim: async (id) => seen.add(id) !== undefined, release: async (id) => void seen.delete(id) };
 */
export interface WebhookLog {
  /** True the first time an id is claimed; false for a redelivery. */
  claim(id: string): Promise<boolean>;
  /** Forgets an id whose handling failed, so a redelivery is processed. */
  release(id: string): Promise<void>;
}

/**
 * A {@link WebhookLog} in a SQLite file: deduplication survives restarts and deploys. Ids older
 * than `retentionMs` (default 7 days, longer than Shopify's 48-hour retry window) are pruned.
 *
 * @example
 * const log = new SqliteWebhookLog({ path: './webhooks.db' });
 */
export class SqliteWebhookLog implements WebhookLog {
  readonly #db: Database.Database;
  readonly #retentionMs: number;
  #claims = 0;

  constructor(options: { path: string; retentionMs?: number }) {
    this.#retentionMs = options.retentionMs ?? 7 * 86_400_000;
    this.#db = new Database(options.path);
    this.#db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS webhook_deliveries (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
    `);
  }

  async claim(id: string): Promise<boolean> {
    if (++this.#claims % 1000 === 0) {
      this.#db
        .prepare('DELETE FROM webhook_deliveries WHERE received_at < ?')
        .run(Date.now() - this.#retentionMs);
    }
    return (
      this.#db
        .prepare('INSERT OR IGNORE INTO webhook_deliveries (id, received_at) VALUES (?, ?)')
        .run(id, Date.now()).changes === 1
    );
  }

  async release(id: string): Promise<void> {
    this.#db.prepare('DELETE FROM webhook_deliveries WHERE id = ?').run(id);
  }

  close(): void {
    this.#db.close();
  }
}

/** What `shopify.webhooks.validate()` of `@shopify/shopify-api` returns (the fields used here). */
interface WebhookValidation {
  valid: boolean;
  domain?: string;
  topic?: string;
  webhookId?: string;
  eventId?: string;
  reason?: string;
}

/**
 * Options of {@link createOrdersWebhook}.
 *
 * @example
 * createOrdersWebhook({ shopify, log: new SqliteWebhookLog({ path: 'webhooks.db' }), shopFor: async (domain) => shops.get(domain) });
 */
export interface OrdersWebhookOptions {
  /** Your `shopifyApi({...})` instance: its `webhooks.validate` checks the HMAC on the raw body. */
  shopify: {
    webhooks: {
      validate(params: {
        rawBody: string;
        rawRequest: unknown;
        rawResponse?: unknown;
      }): Promise<WebhookValidation>;
    };
  };
  log: WebhookLog;
  /** The shop's client and settings, or `undefined` for a shop that has not configured the app. */
  shopFor(domain: string): Promise<{ conversions: Conversions; options: OrderOptions } | undefined>;
}

/**
 * What the webhook answered and did. Answer Shopify with `status`.
 *
 * @example
 * const { status } = await webhook.handle({ rawBody, rawRequest: req, rawResponse: res });
 * res.sendStatus(status);
 */
export interface WebhookOutcome {
  status: number;
  outcome: 'invalid' | 'ignored_topic' | 'duplicate' | 'unknown_shop' | 'skipped' | 'tracked' | 'failed';
  mapped?: MappedOrder;
  result?: TrackResult;
}

/**
 * Handles `orders/create`: verifies the HMAC (a forged or altered body gets 401 and nothing is
 * sent), drops redeliveries by `X-Shopify-Event-Id` (else `X-Shopify-Webhook-Id`), maps the order and
 * queues the conversion, then answers at once: the send to ChatGPT Ads happens after, in batches.
 *
 * @example
 * app.post('/webhooks/orders/create', express.raw({ type: '*\/*' }), async (req, res) => {
 *   const { status } = await webhook.handle({ rawBody: req.body.toString('utf8'), rawRequest: req, rawResponse: res });
 *   res.sendStatus(status);
 * });
 */
export function createOrdersWebhook(options: OrdersWebhookOptions) {
  return {
    async handle(request: {
      rawBody: string;
      rawRequest: unknown;
      rawResponse?: unknown;
    }): Promise<WebhookOutcome> {
      const check = await options.shopify.webhooks.validate(request);
      if (!check.valid || !check.domain) return { status: 401, outcome: 'invalid' };
      if (!/^orders[/_]create$/i.test(check.topic ?? '')) return { status: 200, outcome: 'ignored_topic' };
      const id = check.eventId ?? check.webhookId;
      if (id && !(await options.log.claim(`${check.domain}:${id}`)))
        return { status: 200, outcome: 'duplicate' };
      try {
        const shop = await options.shopFor(check.domain);
        if (!shop) return { status: 200, outcome: 'unknown_shop' };
        const mapped = orderToConversion(JSON.parse(request.rawBody) as ShopifyOrder, shop.options);
        if (!mapped.send) return { status: 200, outcome: 'skipped', mapped };
        // Queuing is quick and local; the network send happens after Shopify has its answer.
        const result = await shop.conversions.track(mapped.input, mapped.context);
        return { status: 200, outcome: 'tracked', mapped, result };
      } catch {
        // Let Shopify deliver it again rather than lose the order.
        if (id) await options.log.release(`${check.domain}:${id}`);
        return { status: 500, outcome: 'failed' };
      }
    },
  };
}
