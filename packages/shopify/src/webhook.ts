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

/**
 * The largest webhook body to accept, in bytes (5 MiB): pass it to your body parser, e.g.
 * `express.raw({ type: '*\/*', limit: WEBHOOK_BODY_LIMIT })`. Express's default of 100 KB turns
 * big orders into 413s that Shopify retries and finally gives up on: an order with 90 line items is
 * about 145 KB (≈1.6 KB per line item with its tax lines, discounts and properties). 5 MiB leaves
 * room for several thousand such line items, far beyond what a checkout holds, and still bounds what
 * one request may make the server buffer.
 *
 * @example
 * app.post('/webhooks/orders/create', express.raw({ type: '*\/*', limit: WEBHOOK_BODY_LIMIT }), handler);
 */
export const WEBHOOK_BODY_LIMIT = 5 * 1024 * 1024;

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
 * Where the webhook reports what it could not do. Defaults to `console`.
 *
 * @example
 * const logger: WebhookLogger = { warn: (m) => pino.warn(m), error: (m) => pino.error(m) };
 */
export interface WebhookLogger {
  warn(message: string): void;
  error(message: string): void;
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
  /**
   * The shop's client and settings, or `undefined` for a shop that has not configured the app.
   * Throw when the settings exist but cannot be used right now (a database down, a key that cannot
   * be decrypted): the delivery is answered 503 and Shopify delivers it again later.
   */
  shopFor(domain: string): Promise<{ conversions: Conversions; options: OrderOptions } | undefined>;
  /** Default `console`. Each unreadable body and each failed delivery is logged once, without the body. */
  logger?: WebhookLogger;
}

/**
 * What the webhook answered and did. Answer Shopify with `status`.
 *
 * - `invalid` (401): the HMAC does not match; nothing is read.
 * - `unreadable` (200): signed by Shopify but not a JSON order (or an order the mapping cannot read).
 *   It can never succeed, so it is not redelivered; it is logged and counted in `stats()`.
 * - `failed` (503): `shopFor` or queuing threw; Shopify delivers it again, so the order is not lost.
 *
 * @example
 * const { status } = await webhook.handle({ rawBody: req.body, rawRequest: req, rawResponse: res });
 * res.sendStatus(status);
 */
export interface WebhookOutcome {
  status: number;
  outcome:
    | 'invalid'
    | 'ignored_topic'
    | 'duplicate'
    | 'unknown_shop'
    | 'unreadable'
    | 'skipped'
    | 'tracked'
    | 'failed';
  mapped?: MappedOrder;
  result?: TrackResult;
}

/**
 * The handler {@link createOrdersWebhook} returns.
 *
 * @example
 * const webhook: OrdersWebhook = createOrdersWebhook({ shopify, log, shopFor });
 * webhook.stats().unreadable; // deliveries signed by Shopify that could never be read
 */
export interface OrdersWebhook {
  /** Verifies, deduplicates, maps and queues one delivery. Never throws; answer with `status`. */
  handle(request: {
    /** The body exactly as received: a string, a Buffer from `express.raw()`, or nothing. */
    rawBody: string | Uint8Array | null | undefined;
    rawRequest: unknown;
    rawResponse?: unknown;
  }): Promise<WebhookOutcome>;
  /** How many deliveries ended in each outcome since this handler was created. */
  stats(): Record<WebhookOutcome['outcome'], number>;
}

const OUTCOMES = [
  'invalid',
  'ignored_topic',
  'duplicate',
  'unknown_shop',
  'unreadable',
  'skipped',
  'tracked',
  'failed',
] as const;

const decoder = new TextDecoder();

/**
 * Handles `orders/create`: verifies the HMAC (a forged or altered body gets 401 and nothing is
 * sent), drops redeliveries by `X-Shopify-Event-Id` (else `X-Shopify-Webhook-Id`), maps the order and
 * queues the conversion, then answers at once: the send to ChatGPT Ads happens after, in batches.
 * A signed body that is not an order is answered 200 (Shopify would otherwise redeliver it for
 * days) and counted; a failure that may pass (`shopFor` throwing) is answered 503 so Shopify retries.
 *
 * @example
 * app.post('/webhooks/orders/create', express.raw({ type: '*\/*', limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
 *   const { status } = await webhook.handle({ rawBody: req.body, rawRequest: req, rawResponse: res });
 *   res.sendStatus(status);
 * });
 */
export function createOrdersWebhook(options: OrdersWebhookOptions): OrdersWebhook {
  const logger = options.logger ?? console;
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<WebhookOutcome['outcome'], number>;
  const done = (outcome: WebhookOutcome): WebhookOutcome => {
    counts[outcome.outcome]++;
    return outcome;
  };

  async function handle(request: Parameters<OrdersWebhook['handle']>[0]): Promise<WebhookOutcome> {
    // express.raw() leaves the body undefined when there is none; shopify-api would throw on it.
    const rawBody =
      typeof request.rawBody === 'string'
        ? request.rawBody
        : request.rawBody instanceof Uint8Array
          ? decoder.decode(request.rawBody)
          : '';
    let check: WebhookValidation;
    try {
      check = await options.shopify.webhooks.validate({ ...request, rawBody });
    } catch {
      return done({ status: 401, outcome: 'invalid' });
    }
    if (!check.valid || !check.domain) return done({ status: 401, outcome: 'invalid' });
    if (!/^orders[/_]create$/i.test(check.topic ?? ''))
      return done({ status: 200, outcome: 'ignored_topic' });
    const id = check.eventId ?? check.webhookId;
    const delivery = `orders/create from ${check.domain} (event ${id ?? 'without id'})`;
    const key = `${check.domain}:${id}`;
    if (id && !(await options.log.claim(key))) return done({ status: 200, outcome: 'duplicate' });

    let order: ShopifyOrder;
    try {
      order = JSON.parse(rawBody) as ShopifyOrder;
    } catch {
      // The parser's message quotes the body, which may hold a buyer's details: keep it out of logs.
      logger.error(
        `chatgpt-ads: ${delivery} is signed by Shopify but is not JSON; ` +
          'answered 200 so Shopify stops redelivering it, and counted as unreadable. No conversion was sent.',
      );
      return done({ status: 200, outcome: 'unreadable' });
    }

    let shop: Awaited<ReturnType<OrdersWebhookOptions['shopFor']>>;
    try {
      shop = await options.shopFor(check.domain);
    } catch (error) {
      if (id) await options.log.release(key);
      logger.error(
        `chatgpt-ads: ${delivery} answered 503 so Shopify delivers it again: the shop's settings could not be loaded: ${(error as Error)?.message ?? String(error)}`,
      );
      return done({ status: 503, outcome: 'failed' });
    }
    if (!shop) return done({ status: 200, outcome: 'unknown_shop' });

    let mapped: MappedOrder;
    try {
      mapped = orderToConversion(order, shop.options);
    } catch (error) {
      logger.error(
        `chatgpt-ads: ${delivery} could not be read as an order (${(error as Error)?.message ?? String(error)}); answered 200 and counted as unreadable. No conversion was sent.`,
      );
      return done({ status: 200, outcome: 'unreadable' });
    }
    if (!mapped.send) {
      if (mapped.reason === 'unreadable') {
        logger.error(
          `chatgpt-ads: ${delivery} is JSON but has no numeric order id; answered 200 and counted as unreadable.`,
        );
        return done({ status: 200, outcome: 'unreadable', mapped });
      }
      return done({ status: 200, outcome: 'skipped', mapped });
    }
    try {
      // Queuing is quick and local; the network send happens after Shopify has its answer.
      const result = await shop.conversions.track(mapped.input, mapped.context);
      return done({ status: 200, outcome: 'tracked', mapped, result });
    } catch (error) {
      // Let Shopify deliver it again rather than lose the order.
      if (id) await options.log.release(key);
      logger.error(
        `chatgpt-ads: ${delivery} answered 503 so Shopify delivers it again: queuing failed: ${(error as Error)?.message ?? String(error)}`,
      );
      return done({ status: 503, outcome: 'failed', mapped });
    }
  }

  const summary = () => ({ kind: 'OrdersWebhook', stats: { ...counts } });
  return {
    handle,
    stats: () => ({ ...counts }),
    // The closure holds the Shopify client (and through it the app secret) and every shop's
    // Conversions client: printing or serializing the handler must show neither.
    toJSON: summary,
    [Symbol.for('nodejs.util.inspect.custom')]: summary,
  } as OrdersWebhook;
}
